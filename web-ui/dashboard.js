// The dashboard: the top card's four answers, drives, then the protocol details (node, box) one
// tap away. It renders once from /dashboard + /summary, then re-renders a section whenever the
// server pushes it over Server-Sent Events (no polling). A lost connection marks the data stale; a
// lost session shows the login.
import { ApiError, attempt, get, post } from "./api.js";
import { atxChart, progress, sparkline } from "./charts.js";
import { errorBox, h, kv, replace } from "./dom.js";
import { chooseCard, driveFacts, driveTitle, initView, spaceCard } from "./drives.js";
import { duration, pct, until } from "./format.js";
import { renderSummary } from "./summary.js";

const history = new Map(); // drive id → [[time, percent], …] seen while this page is open

const driveOf = new Map(); // identity (node id) → the drive holding its PoST data, in words

function drivesView(drives) {
  for (const d of drives) if (d.node_id) driveOf.set(d.node_id, `${d.model} ${d.serial}`);
  if (!drives.length) return [h("p", { class: "error" }, "No drive found. Plug a USB drive into the box.")];
  return drives.map((d) => {
    if (d.job && d.job.labels_total) {
      const points = history.get(d.id) || [];
      const p = pct(d.job.labels_done, d.job.labels_total);
      if (!points.length || points[points.length - 1][1] !== p) points.push([Date.now() / 1000, p]);
      history.set(d.id, points.slice(-60));
    }
    const points = history.get(d.id) || [];
    if (d.state === "offered") return kept(`offer:${d.id}`, [d.reason, d.size_bytes, d.serial],
      () => h("div", { "data-drive": d.id }, chooseCard(d, refreshDrives)));
    return h("section", { class: "card drive", "data-drive": d.id, "aria-label": `Drive ${d.model} ${d.serial}` },
      driveTitle(d), driveFacts(d), d.reason ? h("p", { class: "muted small" }, d.reason) : null,
      ...initView(d), d.state === "missing" ? forgetButton(d) : null,
      points.length > 1 ? sparkline(points, `Initialisation progress over time, now ${points[points.length - 1][1].toFixed(1)} %`) : null,
      resizable(d) ? kept(`space:${d.id}`, [d.size_bytes], () => changeSpace(d)) : null);
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

// Controls a person is using (an open erase confirmation, a space slider) must survive the
// re-rendering that every progress update causes: the same element is re-used while its drive
// says the same thing.
const controls = new Map();
function kept(key, facts, make) {
  const sig = JSON.stringify(facts);
  const have = controls.get(key);
  if (have && have.sig === sig) return have.el;
  const el = make();
  controls.set(key, { sig, el });
  return el;
}

// Space can change while the box is still writing its own data; complete data keeps its size.
const resizable = (d) => d.state === "active" && d.job && ["initializing", "paused", "checking"].includes(d.job.state)
  && d.job.labels_done < d.job.labels_total;

function changeSpace(d) {
  const holder = h("div", { hidden: true });
  const open = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, "Change space…");
  open.addEventListener("click", () => {
    if (!holder.firstChild) holder.append(spaceCard(d, refreshDrives));
    holder.hidden = !holder.hidden;
    open.setAttribute("aria-expanded", String(!holder.hidden));
  });
  return h("div", {}, open, holder);
}

let onDrives = null;
async function refreshDrives() {
  const { drives } = await get("/drives");
  onDrives?.(drives);
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
    budget && proof !== null && proof > budget
      ? h("p", { class: "error" }, `Over budget: the last proof took ${duration(proof)}, only ${duration(budget)} are allowed.`) : null,
    h(several ? "h4" : "h3", {}, "ATX history"),
    i.atx_history.length ? atxChart(i.atx_history, several ? ` of ${short}…` : "")
      : h("p", { class: "muted" }, "None yet."),
    missedList(i.atx_history),
    h(several ? "h4" : "h3", {}, "PoET registrations"),
    i.poet_registrations.length
      ? h("ul", { class: "plain" }, i.poet_registrations.map((r) =>
        h("li", {}, `${r.poet} — round ${r.round_id}, ends ${until(r.round_end)}`)))
      : h("p", { class: "muted" }, "None yet."),
    h(several ? "h4" : "h3", {}, "Eligible layers"),
    h("p", {}, i.eligible_layers.length ? i.eligible_layers.map((l) => l.toLocaleString("en")).join(", ") : "None this epoch."),
    several ? null : h("p", { class: "muted small" }, `Node ${short}…`),
    driveOf.has(i.node_id) ? h("p", { class: "muted small" }, `PoST data on ${driveOf.get(i.node_id)}`) : null,
  ];
}

function missedList(history) {
  const missed = history.filter((a) => a.grade === "missed");
  if (!missed.length) return null;
  return h("ul", { class: "plain missed" }, missed.slice(-5).map((a) =>
    h("li", {}, h("strong", { class: "bad" }, `Epoch ${a.epoch} missed`), a.reason ? `: ${a.reason}` : "")));
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
  const top = h("section", { class: "card top", id: "summary", "aria-labelledby": "summary-h", "aria-live": "polite" },
    h("p", { class: "muted" }, "Loading…"));
  const drives = h("div", { id: "drives" }, h("p", { class: "muted" }, "Loading…"));
  const node = h("section", { class: "card", id: "node", "aria-labelledby": "node-h" });
  const box = h("section", { class: "card", id: "box", "aria-labelledby": "box-h" });
  const details = h("details", { id: "details" }, h("summary", {}, "Protocol details: node, epochs, box"),
    h("h2", { id: "node-h" }, "Node"), node, h("h2", { id: "box-h" }, "Box"), box);
  replace(root, top, h("h2", {}, "Drives"), drives, details);
  const sections = {
    summary: (v) => renderSummary(top, v),
    drives: (v) => replace(drives, ...drivesView(v)),
    node: (v) => replace(node, ...nodeView(v)),
    box: (v) => replace(box, ...boxView(v)),
  };
  onDrives = sections.drives;
  get("/dashboard").then((dash) => { for (const k of ["drives", "node", "box"]) sections[k](dash[k]); })
    .catch((err) => replace(drives, h("p", { class: "error", role: "alert" }, err.message)));
  get("/summary").then(sections.summary)
    .catch((err) => replace(top, h("p", { class: "error", role: "alert" }, err.message)));
  return sections;
}

// One EventSource for the whole page. The browser retries a dropped connection by itself, but
// gives up for good on an HTTP error (a 401 after the session ended): then this asks the box
// whether the session is still valid — no: the login is shown; box unreachable: try again later.
// While disconnected the page says since when its data is stale.
let source = null;
let retry = null;
let lastData = 0;
const RETRY_MS = 3000;

function stale(live) {
  const main = document.getElementById("main");
  main.classList.add("stale");
  const when = lastData ? new Date(lastData).toLocaleTimeString("en-GB") : "";
  live.className = "live off";
  live.textContent = when ? `Reconnecting… showing data from ${when}` : "Reconnecting…";
}

function fresh(live) {
  lastData = Date.now();
  document.getElementById("main").classList.remove("stale");
  live.className = "live on";
  live.textContent = "Live";
}

async function probe(handlers) {
  retry = null;
  try {
    await get("/auth/session");
    connectLive(handlers);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      window.dispatchEvent(new CustomEvent("smeshbox:unauthenticated")); // app.js shows the login
      return;
    }
    retry = setTimeout(() => probe(handlers), RETRY_MS); // the box is restarting or unreachable
  }
}

export function connectLive(handlers) {
  if (source) source.close();
  clearTimeout(retry);
  const live = document.getElementById("live");
  live.hidden = false;
  const es = source = new EventSource("/api/v1/events");
  es.addEventListener("open", () => fresh(live));
  es.addEventListener("error", () => {
    if (source !== es) return;
    stale(live);
    // refused for good (an HTTP error): ask at once whether the session still holds
    if (es.readyState === EventSource.CLOSED && !retry) retry = setTimeout(() => probe(handlers), 0);
  });
  es.addEventListener("snapshot", (e) => {
    fresh(live);
    const all = JSON.parse(e.data);
    for (const [k, v] of Object.entries(all)) handlers.current[k]?.(v);
  });
  for (const name of ["drives", "node", "box", "update", "settings", "summary"]) {
    es.addEventListener(name, (e) => { lastData = Date.now(); handlers.current[name]?.(JSON.parse(e.data)); });
  }
}

export function disconnectLive() {
  if (source) source.close();
  source = null;
  clearTimeout(retry);
  retry = null;
  document.getElementById("main").classList.remove("stale");
  document.getElementById("live").hidden = true;
}
