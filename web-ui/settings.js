// Settings: reward address, PoET/gateway servers, host name, password, drives, identity backup,
// notifications, logs, updates, factory reset.
import { attempt, get, patch, post } from "./api.js";
import { progress } from "./charts.js";
import { errorBox, field, h, kv, replace } from "./dom.js";
import { bytes, pct } from "./format.js";
import { nodeModeSettings } from "./nodemode.js";
import { disconnectLive } from "./dashboard.js";
import { backupCard, devicesCard, drivesCard, notifyCard, waitForBox } from "./settings-extra.js";

function form(title, fields, submitLabel, action, extra = null) {
  const err = errorBox();
  const note = h("p", { class: "note", role: "status" });
  const submit = h("button", { type: "submit" }, submitLabel);
  const el = h("form", { class: "card" }, h("h3", {}, title), ...fields, extra, err, note, submit);
  el.addEventListener("submit", (e) => {
    e.preventDefault();
    note.textContent = "";
    attempt(err, submit, async () => { note.textContent = (await action()) || "Saved."; });
  });
  return el;
}

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

function updateCard(u, root) {
  const err = errorBox();
  const last = u.last_result;
  const busy = u.phase !== "idle" && u.phase !== "error";
  const install = u.available_version && !busy
    ? h("button", { type: "button", onclick: (e) => attempt(err, e.target, async () => {
      await post("/update", { version: u.available_version });
      replace(root, ...updateCard(await get("/update"), root));
    }) }, `Install ${u.available_version}`)
    : null;
  return [h("h3", {}, "Software update"),
    kv([["Installed", u.current_version], ["Available", u.available_version || "up to date"], ["Status", u.phase],
      ["Last update", last ? `${last.from_version} → ${last.to_version}: ${last.outcome}` : "—"]]),
    last && last.reason ? h("p", { class: "muted small" }, last.reason) : null,
    u.total_bytes ? progress("Download", pct(u.downloaded_bytes, u.total_bytes), bytes(u.downloaded_bytes)) : null,
    u.error ? h("p", { class: "error" }, u.error) : null,
    install, err];
}

export async function showSettings(root) {
  document.title = "Settings · Smeshbox";
  const s = await get("/settings");
  const [wa, address] = field("Reward address", { value: s.reward_address, spellcheck: "false", autocapitalize: "none" });
  const [wp, poets] = field("PoET servers (one URL a line)", { tag: "textarea", rows: 3 },
    "Empty: the network's. Pick among the network's own (each PoET is known by its key); the node restarts with them.");
  poets.value = s.poet_servers.join("\n");
  const [wg, gateways] = field("Gateway (one URL)", { value: s.gateways.join(" "), spellcheck: "false", autocapitalize: "none" },
    "Empty: the network's. The node restarts with it.");
  const [wh, hostname] = field("Box name", { value: s.hostname, autocapitalize: "none" },
    "The page is then at http://NAME.local");
  const [wo, oldpw] = field("Current password", { type: "password", autocomplete: "current-password" });
  const [wn, newpw] = field("New password", { type: "password", autocomplete: "new-password" });
  const logs = h("ul", { class: "plain" });
  const update = h("section", { class: "card", id: "update" });
  const [wr, confirmText] = field('Type "factory reset" to confirm', { autocomplete: "off" },
    "Erases the settings and the password; the box starts set-up again. PoST data on the drives is not touched.");
  const [wk, keys] = field("The identity keys", { tag: "select" },
    "Kept: the PoST data on the drives stays usable. Wiped: nobody can use (or back up) the old keys, and that PoST data is lost.");
  keys.append(h("option", { value: "" }, "Choose…"), h("option", { value: "keep" }, "Keep them"),
    h("option", { value: "wipe" }, "Wipe them too"));
  const resetBtn = h("button", { type: "submit", class: "danger" }, "Factory reset");

  const resetForm = h("form", { class: "card" }, h("h3", {}, "Factory reset"), wr, wk);
  const resetErr = errorBox();
  resetForm.append(resetErr, resetBtn);
  resetForm.addEventListener("submit", (e) => {
    e.preventDefault();
    attempt(resetErr, resetBtn, async () => {
      if (!keys.value) throw new Error("Choose whether to keep or wipe the identity keys.");
      await post("/factory-reset", { confirm: confirmText.value.trim(), identities: keys.value });
      disconnectLive(); // the sessions are gone: no login prompt while the box restarts
      const status = h("p", { class: "note", role: "status" }, "Resetting… the box restarts.");
      replace(root, h("h2", {}, "Factory reset"), status);
      await waitForBox(status);
    });
  });

  replace(root, h("h2", { tabindex: "-1" }, "Settings"),
    form("Rewards", [wa], "Save address", async () => { await patch("/settings", { reward_address: address.value.trim() }); }),
    form("Network", [wp, wg], "Save servers", async () => {
      await patch("/settings", { poet_servers: lines(poets.value), gateways: gateways.value.trim().split(/\s+/).filter(Boolean) });
    }),
    form("Name", [wh], "Save name", async () => { await patch("/settings", { hostname: hostname.value.trim() }); }),
    form("Password", [wo, wn], "Change password", async () => {
      await post("/auth/password", { old_password: oldpw.value, new_password: newpw.value });
      oldpw.value = newpw.value = "";
      return "Password changed. Other devices were logged out.";
    }),
    drivesCard(), backupCard(), await notifyCard().catch((err) => h("p", { class: "error" }, err.message)),
    await devicesCard().catch((err) => h("p", { class: "error" }, err.message)),
    h("section", { class: "card" }, h("h3", {}, "Logs"), logs),
    update, resetForm);

  const { names } = await get("/logs");
  replace(logs, ...(names.length ? names.map((n) =>
    h("li", {}, h("a", { href: `/api/v1/logs/${encodeURIComponent(n)}`, download: n }, `Download ${n}`)))
    : [h("li", { class: "muted" }, "No logs yet.")]));
  replace(update, ...updateCard(await get("/update"), update));
  const earn = await nodeModeSettings();
  if (earn) root.querySelector("h2").after(earn);
  return { update: (u) => replace(update, ...updateCard(u, update)) };
}
