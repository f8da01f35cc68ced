// Onboarding, shown only until it is done: password → reward address → drives → space → identity
// backup → finish. Each step is one request; the server validates, this shows its answer.
import { attempt, get, patch, post } from "./api.js";
import { errorBox, field, h, replace } from "./dom.js";
import { chooseCard, spaceCard, usable } from "./drives.js";
import { downloadBackup, MIN_BACKUP_PASSWORD } from "./settings-extra.js";

const STEPS = ["Password", "Reward address", "Drives", "Space", "Identity backup"];

export async function showOnboarding(root, { passwordSet, done: finished }) {
  let step = passwordSet ? 1 : 0;

  function frame(title, intro, ...body) {
    document.title = `Set up · ${title} · Smeshbox`;
    const dots = h("ol", { class: "steps", "aria-label": `Step ${step + 1} of ${STEPS.length}` },
      STEPS.map((name, i) => h("li", { class: i < step ? "done" : i === step ? "current" : "", title: name })));
    replace(root, h("p", { class: "muted small" }, `Set-up · step ${step + 1} of ${STEPS.length}`), dots,
      h("h2", { tabindex: "-1", id: "step-title" }, title), h("p", {}, intro), ...body);
    root.querySelector("#step-title").focus();
  }
  const go = (n) => { step = n; render(); };
  const nav = (next, nextLabel = "Next") => h("div", {},
    step > 1 ? h("button", { type: "button", class: "secondary", onclick: () => go(step - 1) }, "Back") : null,
    next ? h("button", { type: "button", id: "next", onclick: next }, nextLabel) : null);

  async function render() {
    if (step === 0) return passwordStep();
    if (step === 1) return addressStep();
    if (step === 2) return drivesStep();
    if (step === 3) return spaceStep();
    return identityStep();
  }

  function passwordStep() {
    const err = errorBox();
    const [w1, pw] = field("Admin password", { type: "password", autocomplete: "new-password", minlength: 8, required: true },
      "At least 8 characters. You need it to open this page again.");
    const [w2, again] = field("Repeat the password", { type: "password", autocomplete: "new-password", required: true });
    const submit = h("button", { type: "submit" }, "Set password");
    const form = h("form", {}, w1, w2, err, submit);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (pw.value !== again.value) { err.textContent = "The two passwords differ."; return; }
      attempt(err, submit, async () => { await post("/onboarding/password", { password: pw.value }); go(1); });
    });
    frame("Set an admin password", "Only someone with this password can change the box.", form);
  }

  async function addressStep() {
    const settings = await get("/settings");
    const err = errorBox();
    const [w, input] = field("Reward address", { value: settings.reward_address, autocomplete: "off",
      spellcheck: "false", autocapitalize: "none", placeholder: "sm1…" },
    "The Spacemesh wallet address that receives the rewards (starts with sm1).");
    const submit = h("button", { type: "submit" }, "Save and continue");
    const form = h("form", {}, w, err, submit);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      attempt(err, submit, async () => { await patch("/settings", { reward_address: input.value.trim() }); go(2); });
    });
    frame("Where should rewards go?", "Paste your wallet's address.", form);
  }

  async function drivesStep() {
    const { drives } = await get("/drives");
    const list = drives.length ? drives.map((d) => chooseCard(d, drivesStep))
      : [h("p", { class: "error" }, "No drive found. Plug a USB drive into the box.")];
    const next = drives.some(usable) ? () => go(3) : null;
    frame("Choose drives", "Drives already holding this box's data are used as they are; a new drive must be formatted first.",
      ...list, next ? null : h("p", { class: "muted" }, "Format a drive to continue."), nav(next));
  }

  async function spaceStep() {
    const { drives } = await get("/drives");
    const cards = drives.filter(usable).map((d) => spaceCard(d, spaceStep));
    const next = drives.some((d) => d.allocated_bytes > 0) ? () => go(4) : null;
    frame("How much space?", "More space earns more, but takes longer to prepare. The time is measured on this box.",
      ...cards, next ? null : h("p", { class: "muted" }, "Choose space on at least one drive to continue."), nav(next));
  }

  function identityStep() {
    const err = errorBox();
    const note = h("p", { class: "note", role: "status" });
    const [w1, pass] = field("Backup password", { type: "password", autocomplete: "new-password", minlength: MIN_BACKUP_PASSWORD },
      `At least ${MIN_BACKUP_PASSWORD} characters. Protects the backup file. Keep it with the file; without it the backup cannot be opened.`);
    const download = h("button", { type: "button" }, "Download backup");
    let saved = false;
    download.addEventListener("click", () => attempt(err, download, async () => {
      await downloadBackup(pass.value);
      saved = true;
      note.textContent = "Backup downloaded. Keep it somewhere safe.";
    }));
    const [w2, file] = field("Backup file", { type: "file", accept: ".backup,application/octet-stream" });
    const [w3, rpass] = field("Its password", { type: "password", autocomplete: "current-password" });
    const restore = h("button", { type: "button", class: "secondary" }, "Restore this backup");
    restore.addEventListener("click", () => attempt(err, restore, async () => {
      if (!file.files.length) throw new Error("Choose a backup file first.");
      const bytes = new Uint8Array(await file.files[0].arrayBuffer());
      const backup = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
      const { node_ids } = await post("/identity/restore", { password: rpass.value, backup });
      note.textContent = `Restored ${node_ids.length} ${node_ids.length === 1 ? "identity" : "identities"}.`;
    }));
    let warned = false;
    const finish = () => attempt(err, document.getElementById("next"), async () => {
      if (!saved && !warned) {
        warned = true;
        document.getElementById("next").textContent = "Finish without a backup";
        throw new Error("No backup yet: if the box's SD card fails, its identities are lost. Download a backup, or finish anyway (Settings can make one later).");
      }
      await post("/onboarding/complete");
      finished();
    });
    frame("Back up the identity", "Each drive's PoST data has its own identity key. Download an encrypted backup — or restore one from another box.",
      h("section", { class: "card" }, h("h3", {}, "Back up"), w1, download),
      h("section", { class: "card" }, h("h3", {}, "Restore"), w2, w3, restore),
      note, err, nav(finish, "Finish set-up"));
  }

  await render();
}
