// The dashboard: drives, node and box. It renders once from /dashboard, then re-renders a section
// whenever the server pushes it over Server-Sent Events (no polling).
import { attempt, get, post } from "./api.js";
import { atxChart, progress, sparkline } from "./charts.js";
import { errorBox, h, kv, replace } from "./dom.js";
import { driveFacts, driveTitle, initView } from "./drives.js";
import { duration, pct, until } from "./format.js";

const history = new Map(); // drive id → [[time, percent], …] seen while this page is open

function drivesView(drives) {
  if (!drives.length) return [h("p", { class: "error" }, "No drive found. Plug a USB drive into the box.")];
  return drives.map((d) => {
    if (d.job && d.job.labels_total) {
      const points = history.get(d.id) || [];
      const p = pct(d.job.labels_done, d.job.labels_total);
      if (!points.length || points[points.length - 1][1] !== p) points.push([Date.now() / 1000, p]);
      history.set(d.id, points.slice(-60));
    }
    const points = history.get(d.id) || [];
    return h("section", { class: "card drive", "data-drive": d.id, "aria-label": `Drive ${d.model} ${d.serial}` },
      driveTitle(d), driveFacts(d), d.reason ? h("p", { class: "muted small" }, d.reason) : null,
      ...initView(d), d.state === "missing" ? forgetButton(d) : null,
      points.length > 1 ? sparkline(points, `Initialisation progress over time, now ${points[points.length - 1][1].toFixed(1)} %`) : null);
  });
}

// A drive the box waits for (missing since a restart, or pulled): "forget" stops waiting; its identity
// stays, so plugging it in again picks up its data as before.
function forgetButton(d) {
  const err = errorBox();
  const button = h("button", { type: "button", class: "secondary" }, "Forget this drive");
  button.addEventListener("click", () => attempt(err, button, () =>
    post(`/drives/${encodeURIComponent(d.id)}/forget`)));
  return h("div", {}, button, err);
}

function nodeView(n) {
  const ids = n.identities;
  const proposals = ids.reduce((sum, i) => sum + i.proposals_published, 0);
  return [
    h("p", { class: "status-line" }, n.status || "—"),
    kv([["Epoch", n.epoch], ["Layer", n.layer.toLocaleString("en")], ["Proposals published", proposals],
      ...(ids.length > 1 ? [["Identities", ids.length]] : [])]),
    ...(ids.length ? ids.flatMap((i) => identityView(i, ids.length > 1))
      : [h("p", { class: "muted" }, "No identity is smeshing yet.")]),
  ];
}

// One identity (one drive's PoST data); with several, each gets a heading and its own status line,
// and its chart a name of its own.
function identityView(i, several) {
  const short = i.node_id.slice(0, 16);
  const budget = i.cycle_gap_budget_seconds, proof = i.last_proof_seconds;
  const share = budget && proof !== null ? pct(proof, budget) : 0;
  const tone = share > 75 ? "bad" : share > 40 ? "warn" : "";
  return [
    several ? h("h3", { class: "identity" }, `Identity ${short}…`) : null,
    several ? h("p", { class: "status-line" }, i.status || "—") : null,
    h("p", {}, h("strong", {}, `Next deadline ${until(i.next_deadline)}`),
      i.next_deadline_what ? h("br") : null, i.next_deadline_what),
    budget && proof !== null
      ? progress("Last proof", share, `${duration(proof)} of ${duration(budget)} budget`, tone)
      : h("p", { class: "muted" }, "No proof generated yet."),
    h(several ? "h4" : "h3", {}, "ATX history"),
    i.atx_history.length ? atxChart(i.atx_history, several ? ` of ${short}…` : "")
      : h("p", { class: "muted" }, "None yet."),
    h(several ? "h4" : "h3", {}, "PoET registrations"),
    i.poet_registrations.length
      ? h("ul", { class: "plain" }, i.poet_registrations.map((r) =>
        h("li", {}, `${r.poet} — round ${r.round_id}, ends ${until(r.round_end)}`)))
      : h("p", { class: "muted" }, "None yet."),
    h(several ? "h4" : "h3", {}, "Eligible layers"),
    h("p", {}, i.eligible_layers.length ? i.eligible_layers.map((l) => l.toLocaleString("en")).join(", ") : "None this epoch."),
    several ? null : h("p", { class: "muted small" }, `Node ${short}…`),
  ];
}

function boxView(b) {
  const temp = b.cpu_temp_c;
  return [
    temp === null ? h("p", { class: "muted" }, "CPU temperature unknown")
      : progress("CPU temperature", pct(temp, 85), `${temp.toFixed(1)} °C`, temp > 75 ? "bad" : temp > 65 ? "warn" : ""),
    kv([["Power", b.undervoltage ? "Under-voltage!" : "OK"], ["Throttling", b.throttled ? "Throttled" : "None"],
      ["Up for", duration(b.uptime_seconds)], ["Version", b.version], ["Name", b.hostname || "—"]]),
    b.undervoltage ? h("p", { class: "error" }, "The power supply is too weak: use the official 5 V / 3 A (Pi 4) or 5 A (Pi 5) supply.") : null,
    h("h3", {}, "Disks"),
    b.disks.length ? null : h("p", { class: "muted" }, "None reported."),
    h("ul", { class: "plain" }, b.disks.map((d) =>
      h("li", {}, h("span", { class: `badge ${d.healthy ? "ok" : "bad"}` }, d.healthy ? "healthy" : "failing"), ` ${d.name} `,
        h("span", { class: "muted small" }, d.detail)))),
  ];
}

export function showDashboard(root) {
  document.title = "Dashboard · Smeshbox";
  const drives = h("div", { id: "drives" }, h("p", { class: "muted" }, "Loading…"));
  const node = h("section", { class: "card", id: "node", "aria-labelledby": "node-h" });
  const box = h("section", { class: "card", id: "box", "aria-labelledby": "box-h" });
  replace(root, h("h2", { tabindex: "-1" }, "Drives"), drives,
    h("h2", { id: "node-h" }, "Node"), node, h("h2", { id: "box-h" }, "Box"), box);
  const sections = {
    drives: (v) => replace(drives, ...drivesView(v)),
    node: (v) => replace(node, ...nodeView(v)),
    box: (v) => replace(box, ...boxView(v)),
  };
  get("/dashboard").then((dash) => { for (const k of Object.keys(sections)) sections[k](dash[k]); })
    .catch((err) => replace(drives, h("p", { class: "error", role: "alert" }, err.message)));
  return sections;
}

// One EventSource for the whole page; it reconnects by itself. Handlers receive fresh sections.
let source = null;
export function connectLive(handlers) {
  if (source) source.close();
  const live = document.getElementById("live");
  live.hidden = false;
  source = new EventSource("/api/v1/events");
  source.addEventListener("open", () => { live.className = "live on"; live.textContent = "Live"; });
  source.addEventListener("error", () => { live.className = "live off"; live.textContent = "Reconnecting…"; });
  source.addEventListener("snapshot", (e) => {
    const all = JSON.parse(e.data);
    for (const [k, v] of Object.entries(all)) handlers.current[k]?.(v);
  });
  for (const name of ["drives", "node", "box", "update", "settings"]) {
    source.addEventListener(name, (e) => handlers.current[name]?.(JSON.parse(e.data)));
  }
}

export function disconnectLive() {
  if (source) source.close();
  source = null;
  document.getElementById("live").hidden = true;
}
