// Progress bars and small inline-SVG charts. Each has a text equivalent (aria-label / role=img)
// so the numbers are available without seeing the picture.
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

// A labelled progress bar; tone is "", "warn" or "bad".
export function progress(label, percent, detail, tone = "") {
  const fill = h("span");
  fill.style.width = `${Math.max(0, Math.min(100, percent)).toFixed(1)}%`;
  return h("div", {},
    h("div", { class: "bar-label" }, h("span", {}, label), h("span", {}, detail)),
    h("div", { class: `bar ${tone}`, role: "progressbar", "aria-label": label,
      "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(percent),
      "aria-valuetext": detail }, fill));
}

// The node's ATX grades (appliance/node/manager.py AtxView). Dark, distinct colours that keep
// ≥ 4.5:1 contrast on white in sunlight; "pending" is a muted grey, not a verdict.
const GRADES = {
  good: { colour: "#0a5c1a", height: 46 },
  acceptable: { colour: "#8a4b00", height: 30 },
  pending: { colour: "#6b6b6b", height: 20 },
  missed: { colour: "#a50000", height: 10 },
  evil: { colour: "#4b0a7a", height: 10 },
};

// ATX history: one column per epoch, height by grade, colour + letter by grade, and a legend of
// the grades shown (narrow columns show only the first letter).
// `whose` (e.g. " of 0123abcd…") tells several identities' charts apart for screen readers.
export function atxChart(history, whose = "") {
  const width = 320, height = 86, n = Math.max(history.length, 1), gap = 4;
  const col = (width - gap * (n - 1)) / n;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `ATX history${whose}: ${history.map((a) => `epoch ${a.epoch} ${a.grade}`).join(", ") || "none yet"}` });
  history.forEach((atx, i) => {
    const x = i * (col + gap), grade = GRADES[atx.grade], bh = grade?.height ?? 24;
    svg.append(s("rect", { x, y: 64 - bh, width: col, height: bh, rx: 3, fill: grade?.colour || "#333" }));
    svg.append(s("text", { x: x + col / 2, y: 80, "text-anchor": "middle" }, String(atx.epoch)));
    svg.append(s("text", { x: x + col / 2, y: 60 - bh, "text-anchor": "middle", "font-weight": 700 },
      col >= 44 ? atx.grade : atx.grade[0].toUpperCase()));
  });
  const shown = [...new Set(history.map((a) => a.grade))];
  const legend = h("ul", { class: "plain legend", "aria-hidden": "true" }, shown.map((g) => {
    const swatch = h("span", { class: "swatch" });
    swatch.style.background = GRADES[g]?.colour || "#333";
    return h("li", {}, swatch, `${g[0].toUpperCase()} ${g}`);
  }));
  return h("div", { class: "atx-chart" }, svg, legend);
}

// Init progress over time as a sparkline (points are kept by the page as updates arrive).
export function sparkline(points, label) {
  const width = 320, height = 48;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  svg.append(s("line", { x1: 0, y1: height - 1, x2: width, y2: height - 1, stroke: "#000", "stroke-width": 2 }));
  if (points.length > 1) {
    const t0 = points[0][0], t1 = points[points.length - 1][0] || t0 + 1;
    const coords = points.map(([t, v]) =>
      `${(((t - t0) / (t1 - t0 || 1)) * (width - 4) + 2).toFixed(1)},${(height - 3 - (v / 100) * (height - 6)).toFixed(1)}`);
    svg.append(s("polyline", { points: coords.join(" "), fill: "none", stroke: "#003a8c", "stroke-width": 3 }));
  }
  return svg;
}
