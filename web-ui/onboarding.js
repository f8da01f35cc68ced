// Onboarding, shown only until it is done: password → how the box earns → reward address (or, with
// the person's own node, the node) → drives → space → identity backup (or the key hand-off to the
// node) → finish. Each step is one request; the server validates, this shows its answer.
import { attempt, get, patch, post } from "./api.js";
import { errorBox, field, h, replace } from "./dom.js";
import { chooseCard, spaceCard, usable } from "./drives.js";
import { earnChoice, handoff, nodeForm, nodeMode } from "./nodemode.js";
import { backupFields } from "./settings-extra.js";

const LIGHT_STEPS = ["Password", "How the box earns", "Reward address", "Drives", "Space", "Identity backup"];
const NODE_STEPS = ["Password", "How the box earns", "Your node", "Drives", "Space", "Identity hand-off"];

export async function showOnboarding(root, { passwordSet, done: finished }) {
  let step = passwordSet ? 1 : 0;
  let earn = passwordSet ? await nodeMode() : null; // null: this box has only the light node
  let STEPS = earn && earn.mode === "node" ? NODE_STEPS : LIGHT_STEPS;

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
    if (step === 1) return earnStep();
    const node = earn && earn.mode === "node";
    if (step === 2) return node ? nodeStep() : addressStep();
    if (step === 3) return drivesStep();
    if (step === 4) return spaceStep();
    return node ? handoffStep() : identityStep();
  }

  async function earnStep() {
    earn = earn || await nodeMode();
    if (!earn) { step = 2; return render(); } // no node mode on this box: straight to the address
    const chosen = (view) => { earn = view; STEPS = view.mode === "node" ? NODE_STEPS : LIGHT_STEPS; go(2); };
    frame("How should the box earn?", "Choose how the box takes part in Spacemesh. Settings can switch later.",
      earnChoice(earn, chosen), nav(null));
  }

  function nodeStep() {
    frame("Connect to your node", "The box becomes the PoST service of your go-spacemesh node: your node asks, the box proves.",
      nodeForm(earn, (view) => { earn = view; go(3); }, "Save and continue"), nav(null));
  }

  async function handoffStep() {
    const err = errorBox();
    earn = await nodeMode();
    const finish = () => attempt(err, document.getElementById("next"), async () => {
      await post("/onboarding/complete");
      finished();
    });
    frame("Give your node the identities", "Your node signs for each drive's identity, so it needs each key file. Download them now (you can also do it later in Settings).",
      ...handoff(earn), err, nav(finish, "Finish set-up"));
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
      attempt(err, submit, async () => {
        await post("/onboarding/password", { password: pw.value });
        earn = await nodeMode();
        go(1);
      });
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
      attempt(err, submit, async () => { await patch("/settings", { reward_address: input.value.trim() }); go(3); });
    });
    frame("Where should rewards go?", "Paste your wallet's address.", form);
  }

  async function drivesStep() {
    const { drives } = await get("/drives");
    const list = drives.length ? drives.map((d) => chooseCard(d, drivesStep))
      : [h("p", { class: "error" }, "No drive found. Plug a USB drive into the box.")];
    const next = drives.some(usable) ? () => go(4) : null;
    frame("Choose drives", "Drives already holding this box's data are used as they are; a new drive must be formatted first.",
      ...list, next ? null : h("p", { class: "muted" }, "Format a drive to continue."), nav(next));
  }

  async function spaceStep() {
    const { drives } = await get("/drives");
    const cards = drives.filter(usable).map((d) => spaceCard(d, spaceStep));
    const next = drives.some((d) => d.allocated_bytes > 0) ? () => go(5) : null;
    frame("How much space?", "More space earns more, but takes longer to prepare. The time is measured on this box.",
      ...cards, next ? null : h("p", { class: "muted" }, "Choose space on at least one drive to continue."), nav(next));
  }

  function identityStep() {
    const err = errorBox();
    const note = h("p", { class: "note", role: "status" });
    const backup = backupFields();
    const download = h("button", { type: "button" }, "Download backup");
    let saved = false;
    download.addEventListener("click", () => attempt(err, download, async () => {
      await backup.download();
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
      h("section", { class: "card" }, h("h3", {}, "Back up"), ...backup.fields, download),
      h("section", { class: "card" }, h("h3", {}, "Restore"), w2, w3, restore),
      note, err, nav(finish, "Finish set-up"));
  }

  await render();
}
