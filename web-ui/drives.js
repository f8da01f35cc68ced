// Drive cards: what the drive is, its state, and — in onboarding — the explicit format confirmation
// and the space/ETA choice. All decisions are the server's; this only asks and shows.
import { attempt, post } from "./api.js";
import { progress } from "./charts.js";
import { errorBox, h, kv, replace } from "./dom.js";
import { bytes, duration, pct, plural, rate } from "./format.js";
import { mergeOffer } from "./merge.js";

// Drive states (appliance.drives) and job states (appliance.jobs) → badge colour.
const TONES = { active: "ok", ready: "ok", proving: "ok", checking: "info", initializing: "info",
  formatting: "info", offered: "warn", paused: "warn", missing: "bad", error: "bad" };
const MIB = 2 ** 20;
const GIB = 2 ** 30;

export const usable = (d) => d.state === "active";

const badge = (state) => h("span", { class: `badge ${TONES[state] || "info"}` }, state);

export function driveTitle(d) {
  return h("h3", {}, `${d.model} `, badge(d.state), d.job ? [" ", badge(d.job.state)] : null);
}

export function driveFacts(d) {
  return kv([["Serial", d.serial], ["Size", bytes(d.size_bytes)],
    ...(d.allocated_bytes ? [["PoST space", bytes(d.allocated_bytes)]] : []),
    ...(d.node_id ? [["Identity", `${d.node_id.slice(0, 16)}…`]] : [])]);
}

export function initView(d) {
  const job = d.job;
  if (!job) return [];
  const p = pct(job.labels_done, job.labels_total);
  return [
    job.labels_total ? progress(job.state === "initializing" ? "Initialising" : "PoST data", p, `${p.toFixed(1)} %`) : null,
    job.state === "initializing" || job.state === "paused"
      ? kv([["Speed", rate(job.labels_per_second)], ["Time left", duration(job.eta_seconds)]]) : null,
    job.paused_by.length ? h("p", { class: "muted" }, `Paused: ${job.paused_by.join("; ")}`) : null,
    job.reason ? h("p", { class: job.state === "error" ? "error" : "muted" }, job.reason) : null,
    job.check ? h("p", { class: "note" }, `Data check: ${job.check}`) : null,
  ];
}

// Onboarding: a drive, with "format" behind an explicit confirmation naming model/serial/size.
export function chooseCard(d, onChange) {
  const err = errorBox();
  const card = h("section", { class: "card", "aria-label": `${d.model} ${d.serial}` },
    driveTitle(d), driveFacts(d), d.reason ? h("p", { class: "muted small" }, d.reason) : null);
  if (d.state === "offered") {
    const confirmBox = h("div", { class: "confirm", hidden: true });
    const tick = h("input", { type: "checkbox", id: `ok-${d.id}` });
    const erase = h("button", { type: "button", class: "danger", disabled: true }, "Erase and format");
    tick.addEventListener("change", () => { erase.disabled = !tick.checked; });
    erase.addEventListener("click", () => attempt(err, erase, async () => {
      await post(`/drives/${encodeURIComponent(d.id)}/format`,
        { model: d.model, serial: d.serial, size_bytes: d.size_bytes });
      await onChange();
    }));
    replace(confirmBox,
      h("p", {}, h("strong", {}, "Everything on this drive will be erased: "),
        `${d.model}, serial ${d.serial}, ${bytes(d.size_bytes)}.`),
      d.reason ? h("p", {}, h("strong", {}, "On it now: "), d.reason) : null,
      h("label", { class: "check", for: tick.id }, tick,
        `Yes, erase ${d.model} (serial ${d.serial}, ${bytes(d.size_bytes)})`),
      erase);
    const open = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, "Format this drive…");
    open.addEventListener("click", () => {
      confirmBox.hidden = !confirmBox.hidden;
      open.setAttribute("aria-expanded", String(!confirmBox.hidden));
    });
    card.append(...[mergeOffer(d, err, onChange)].filter(Boolean), open, confirmBox);
  }
  card.append(err);
  return card;
}

// Onboarding: how much of a usable drive to fill, with the box's measured ETA before committing.
export function spaceCard(d, onChange) {
  const err = errorBox();
  // Whole GiB for real drives; MiB for small ones (the dev box's file-backed drives).
  const unit = d.size_bytes >= 16 * GIB ? GIB : MIB;
  const unitName = unit === GIB ? "GiB" : "MiB";
  const max = Math.max(1, Math.floor(d.size_bytes / unit));
  const start = Math.max(1, d.allocated_bytes ? Math.round(d.allocated_bytes / unit) : Math.floor(max * 0.9));
  const id = `space-${d.id}`;
  const slider = h("input", { type: "range", min: 1, max, value: start, id, "aria-describedby": `${id}-eta` });
  const number = h("input", { type: "number", min: 1, max, value: start, "aria-label": `${unitName} on ${d.model} ${d.serial}` });
  const eta = h("p", { id: `${id}-eta`, "aria-live": "polite" }, "…");
  const use = h("button", { type: "button" }, "Use this space");
  let seq = 0;
  let shown = null; // the amount the text below describes

  async function estimate(amount) {
    shown = amount;
    const mine = ++seq;
    const got = await attempt(err, null, () =>
      post(`/drives/${encodeURIComponent(d.id)}/estimate`, { size_bytes: amount * unit }));
    if (mine !== seq || !got) return;
    replace(eta, h("strong", {}, `${bytes(got.size_bytes)} (${plural(got.num_units, "unit")})`),
      got.eta_seconds === null
        ? " — the box is still measuring its speed; the time to prepare shows once it is known."
        : ` — about ${duration(got.eta_seconds)} to prepare on this box, measured at ${rate(got.labels_per_second)}`
          + (got.shared_with ? `, shared with ${plural(got.shared_with, "other drive")}.` : "."));
  }
  // Only a new amount is estimated again: a blur that "changes" nothing must not rewrite the text
  // (and move the button) under the finger that is pressing "Use this space".
  const changed = (src, other) => {
    other.value = src.value;
    if (Number(src.value) !== shown) estimate(Number(src.value));
  };
  slider.addEventListener("change", () => changed(slider, number));
  slider.addEventListener("input", () => { number.value = slider.value; });
  number.addEventListener("change", () => changed(number, slider));
  use.addEventListener("click", () => attempt(err, use, async () => {
    await post(`/drives/${encodeURIComponent(d.id)}/allocate`, { size_bytes: Number(number.value) * unit });
    await onChange();
  }));
  estimate(start);
  return h("section", { class: "card", "aria-label": `Space on ${d.model} ${d.serial}` },
    driveTitle(d), h("p", { class: "muted small" }, `Serial ${d.serial} · ${bytes(d.size_bytes)}`
      + (d.node_id ? ` · identity ${d.node_id.slice(0, 8)}…` : "")), h("label", { for: id }, `Space on ${d.model} (${unitName}, up to ${max})`),
    h("div", { class: "row" }, slider, number), eta,
    d.allocated_bytes ? h("p", { class: "note" }, `In use: ${bytes(d.allocated_bytes)}`) : null,
    use, err);
}
