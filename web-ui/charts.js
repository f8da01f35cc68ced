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

const GRADE_COLOURS = { valid: "#0a5c1a", acceptable: "#8a4b00", missed: "#a50000", evil: "#a50000" };

// ATX history: one column per epoch, height by grade, colour + letter by grade.
export function atxChart(history) {
  const width = 320, height = 86, n = Math.max(history.length, 1), gap = 4;
  const col = (width - gap * (n - 1)) / n;
  const heights = { valid: 46, acceptable: 30, missed: 10, evil: 10 };
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `ATX history: ${history.map((a) => `epoch ${a.epoch} ${a.grade}`).join(", ") || "none yet"}` });
  history.forEach((atx, i) => {
    const x = i * (col + gap), bh = heights[atx.grade] ?? 24;
    svg.append(s("rect", { x, y: 64 - bh, width: col, height: bh, rx: 3, fill: GRADE_COLOURS[atx.grade] || "#333" }));
    svg.append(s("text", { x: x + col / 2, y: 80, "text-anchor": "middle" }, String(atx.epoch)));
    svg.append(s("text", { x: x + col / 2, y: 60 - bh, "text-anchor": "middle", "font-weight": 700 },
      col >= 44 ? atx.grade : atx.grade[0].toUpperCase()));
  });
  return svg;
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
