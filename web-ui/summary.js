// The top card: the four answers a person wants first — is it earning, what happens next and
// when, what has it earned, what needs me — in plain words, from /summary (appliance.status) plus
// the box's health problems from /health. Protocol details stay one tap away below.
import { get } from "./api.js";
import { h, replace } from "./dom.js";
import { until } from "./format.js";

const TONE = { earning: "ok", preparing: "info", waiting: "warn", stopped: "bad", trouble: "bad" };
const SMIDGE = 1e9;
let health = { problems: [] };
let healthAt = 0;

// Smidge → "1,432.5 SMH" (numbers past 2^53 lose only digits far below what is shown).
export function smh(smidge) {
  const v = Number(smidge) / SMIDGE;
  return `${v.toLocaleString("en", { maximumFractionDigits: v >= 100 ? 1 : 3 })} SMH`;
}

// Both problem lists in one: the summary's (drives, node, epochs) and the health report's, by id.
// /health may still be the old {status, version} shape: then it adds nothing.
function problems(summary) {
  const all = new Map();
  for (const p of [...(summary.needs || []), ...(Array.isArray(health.problems) ? health.problems : [])]) {
    if (p && p.id && !all.has(p.id)) all.set(p.id, p);
  }
  return [...all.values()].sort((a, b) => (a.severity === "error" ? 0 : 1) - (b.severity === "error" ? 0 : 1));
}

async function refreshHealth(onChange) {
  if (Date.now() - healthAt < 10000) return;
  healthAt = Date.now();
  try {
    health = await get("/health");
    onChange();
  } catch { /* the summary still answers; the live indicator shows a lost connection */ }
}

function nextLine(events) {
  if (!events.length) return [h("dd", {}, "Nothing scheduled yet")];
  const [first, ...rest] = events;
  return [h("dd", {}, h("strong", {}, `${first.what} `, first.at ? until(first.at) : "— time not known yet"),
    first.detail ? h("span", { class: "muted small block" }, first.detail) : null,
    rest.slice(0, 1).map((e) => h("span", { class: "muted small block" }, `${e.what} ${e.at ? until(e.at) : ""}`)))];
}

function earnedLine(s) {
  if (!s.earned_known) return h("dd", {}, h("strong", {}, "—"), h("span", { class: "muted small block" }, s.earned_note));
  return h("dd", {}, h("strong", { id: "earned-total" }, smh(s.earned_smidge)),
    h("span", { class: "muted small block" }, s.earned_note));
}

function needsLine(list) {
  if (!list.length) return h("dd", { id: "needs" }, h("strong", { class: "good" }, "Nothing — all is well"));
  const item = (p) => h("li", { class: `sev-${p.severity}` }, h("strong", {}, p.reason),
    h("span", { class: "small block" }, p.remedy));
  // The worst one with its remedy; the others one tap away, so the answer stays on a phone's
  // first screen however many there are.
  return h("dd", { id: "needs" }, h("ul", { class: "plain needs" }, list.slice(0, 1).map(item)),
    list.length > 1 ? h("details", { class: "small" }, h("summary", {}, `${list.length - 1} more`),
      h("ul", { class: "plain needs" }, list.slice(1).map(item))) : null);
}

// Per identity, one tap away (the card itself shows the total).
function perIdentity(s) {
  if (s.identities.length < 2) return null;
  return h("details", { class: "small" }, h("summary", {}, "Earned per identity"),
    h("ul", { class: "plain" }, s.identities.map((i) =>
      h("li", {}, `${i.node_id.slice(0, 8)}…${i.drive ? ` on ${i.drive}` : ""}: ${smh(i.earned_smidge)} (${i.rewards} rewards)`))));
}

export function renderSummary(el, s) {
  const list = problems(s);
  const state = list.some((p) => p.severity === "error") && s.state === "earning" ? "warn" : TONE[s.state] || "info";
  replace(el,
    h("h2", { id: "summary-h", class: `headline ${state}`, tabindex: "-1" }, s.headline),
    h("p", { class: "why" }, s.why),
    h("dl", { class: "answers" },
      h("dt", {}, "Next"), ...nextLine(s.next),
      h("dt", {}, "Earned"), earnedLine(s),
      h("dt", {}, "Needs you"), needsLine(list)),
    perIdentity(s));
  el.dataset.state = s.state;
  refreshHealth(() => renderSummary(el, s));
}
