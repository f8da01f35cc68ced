// Settings cards beyond the basic forms: drives after set-up, identity backup, notifications, and
// waiting for the box to come back after a factory reset.
import { attempt, get, patch, post, request } from "./api.js";
import { errorBox, field, h, replace } from "./dom.js";
import { chooseCard, driveFacts, driveTitle, spaceCard, usable } from "./drives.js";

// The box's rule (appliance.node.backup): a backup file can be guessed offline, so 12 characters.
export const MIN_BACKUP_PASSWORD = 12;

// Drives: what each holds, format a new one (with what is on it shown first), choose its space.
export function drivesCard() {
  const card = h("section", { class: "card", id: "settings-drives" }, h("h3", {}, "Drives"), h("p", { class: "muted" }, "Loading…"));
  async function render() {
    const { drives } = await get("/drives");
    const items = drives.map((d) => {
      if (d.state === "offered") return chooseCard(d, render);
      if (usable(d) && d.job && d.job.labels_done < d.job.labels_total) return spaceCard(d, render);
      return h("div", { class: "card" }, driveTitle(d), driveFacts(d),
        d.node_id ? h("p", { class: "small" }, `Identity ${d.node_id.slice(0, 16)}…`) : null,
        d.reason ? h("p", { class: "muted small" }, d.reason) : null);
    });
    replace(card, h("h3", {}, "Drives"),
      ...(items.length ? items : [h("p", { class: "muted" }, "No drive plugged in.")]),
      h("p", { class: "muted small" }, "Plug a drive in at any time: it shows up here and on the dashboard."));
  }
  render().catch((err) => card.append(h("p", { class: "error", role: "alert" }, err.message)));
  return card;
}

// Downloads an encrypted backup of every identity. The box asks for the admin password again
// before any key leaves it.
export async function downloadBackup(password, adminPassword) {
  if (password.length < MIN_BACKUP_PASSWORD) {
    throw new Error(`Use a backup password of at least ${MIN_BACKUP_PASSWORD} characters.`);
  }
  const body = { password, admin_password: adminPassword };
  const blob = await request("POST", "/identity/backup", body, { raw: true });
  const a = h("a", { href: URL.createObjectURL(blob), download: "smeshbox-identity.backup" });
  document.body.append(a); a.click(); a.remove();
}

// The backup password and the admin password fields, shared by onboarding and Settings.
export function backupFields() {
  const [w1, pass] = field("Backup password", { type: "password", autocomplete: "new-password", minlength: MIN_BACKUP_PASSWORD },
    `At least ${MIN_BACKUP_PASSWORD} characters. Protects the backup file. Keep it apart from the file; without it the backup cannot be opened.`);
  const [w0, admin] = field("Admin password", { type: "password", autocomplete: "current-password" },
    "The box asks for it again before any key leaves it.");
  return { fields: [w1, w0], download: async () => {
    try { await downloadBackup(pass.value, admin.value); } finally { admin.value = ""; }
  } };
}

export function backupCard() {
  const err = errorBox();
  const note = h("p", { class: "note", role: "status" });
  const backup = backupFields();
  const button = h("button", { type: "button" }, "Download backup");
  button.addEventListener("click", () => attempt(err, button, async () => {
    await backup.download();
    note.textContent = "Backup downloaded. Keep it somewhere safe, away from the box.";
  }));
  return h("section", { class: "card", id: "backup" }, h("h3", {}, "Identity backup"),
    h("p", { class: "small" }, "Each drive's PoST data belongs to an identity key kept on the box. If the box's SD card fails, only this backup brings the identities back."),
    ...backup.fields, err, note, button);
}

// Notifications: nothing is sent until the person ticks "Send me notifications".
export async function notifyCard() {
  const s = await get("/notify");
  const err = errorBox();
  const note = h("p", { class: "note", role: "status" });
  const on = h("input", { type: "checkbox", id: "notify-on", checked: s.enabled });
  const [wu, url] = field("ntfy or webhook URL", { value: s.webhook_url, type: "url", autocapitalize: "none", placeholder: "https://ntfy.sh/your-topic" },
    "The box POSTs each notice there as text (ntfy's format).");
  const [wh, host] = field("Mail server", { value: s.smtp_host, autocapitalize: "none", placeholder: "smtp.example.org" });
  const [wp, port] = field("Port", { value: s.smtp_port, type: "number", min: 1, max: 65535 });
  const tls = h("input", { type: "checkbox", id: "notify-tls", checked: s.smtp_starttls });
  const [wus, user] = field("Mail user name", { value: s.smtp_user, autocapitalize: "none", autocomplete: "off" });
  const [wpw, pw] = field("Mail password", { type: "password", autocomplete: "off",
    placeholder: s.smtp_password_set ? "(kept — type to change)" : "" });
  const [wf, from] = field("From", { value: s.mail_from, type: "email" });
  const [wt, to] = field("To", { value: s.mail_to, type: "email" });
  const save = h("button", { type: "submit" }, "Save notifications");
  const test = h("button", { type: "button", class: "secondary" }, "Send a test");
  const values = () => ({ enabled: on.checked, webhook_url: url.value.trim(), smtp_host: host.value.trim(),
    smtp_port: Number(port.value) || 587, smtp_starttls: tls.checked, smtp_user: user.value.trim(),
    smtp_password: pw.value, mail_from: from.value.trim(), mail_to: to.value.trim() });
  const form = h("form", { class: "card", id: "notify" }, h("h3", {}, "Notifications"),
    h("p", { class: "small" }, "When PoST data is ready or stalls, a PoET registration or proof is missed, a proof runs over its budget, a drive fails or is unplugged, the power is too weak, or an update ends."),
    h("label", { class: "check", for: on.id }, on, "Send me notifications"), wu,
    h("details", {}, h("summary", {}, "E-mail"), wh, wp,
      h("label", { class: "check", for: tls.id }, tls, "Encrypt with STARTTLS"), wus, wpw, wf, wt),
    err, note, save, test);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    note.textContent = "";
    attempt(err, save, async () => {
      await patch("/notify", values());
      pw.value = "";
      note.textContent = on.checked ? "Saved. Notifications are on." : "Saved. Notifications are off.";
    });
  });
  test.addEventListener("click", () => attempt(err, test, async () => {
    note.textContent = "";
    await patch("/notify", values());
    const { deliveries } = await post("/notify/test");
    const failed = deliveries.filter((d) => !d.ok);
    if (failed.length) throw new Error(failed.map((d) => `${d.channel}: ${d.detail}`).join("; "));
    note.textContent = `Test sent by ${deliveries.map((d) => d.channel).join(" and ")}.`;
  }));
  return form;
}

// After a factory reset the box restarts: wait until it answers again, then load the page afresh
// (never into the browser's "can't be reached" page).
export async function waitForBox(status, limitMs = 300000) {
  const end = Date.now() + limitMs;
  await new Promise((r) => setTimeout(r, 1000));
  while (Date.now() < end) {
    try { // answered with no password set: the reset box is back, in set-up
      const resp = await fetch("/api/v1/onboarding", { cache: "no-store" });
      if (resp.ok && !(await resp.json()).password_set) { location.replace("/"); return; }
    } catch { /* still restarting */ }
    status.textContent = "The box is restarting… this page reloads by itself when it is back.";
    await new Promise((r) => setTimeout(r, 1000));
  }
  status.textContent = "The box has not come back after 5 minutes. Check its power and network, then reload.";
}

// Logged-in devices: sessions survive restarts, so a lost phone stays logged in until revoked.
export async function devicesCard() {
  const err = errorBox();
  const note = h("p", { class: "note", role: "status" });
  const count = h("strong", {}, String((await get("/sessions")).count));
  const button = h("button", { type: "button", class: "secondary" }, "Log out all other devices");
  button.addEventListener("click", () => attempt(err, button, async () => {
    const left = await post("/sessions/end-others");
    count.textContent = String(left.count);
    note.textContent = "Every other device is logged out.";
  }));
  return h("section", { class: "card", id: "devices" }, h("h3", {}, "Logged-in devices"),
    h("p", {}, "Devices logged in now: ", count), err, note, button);
}
