// Tiny DOM helpers: elements are built with text nodes only (never innerHTML), so nothing the box
// reports can inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
// A labelled input: returns [wrapper, input]; the label is tied to the input for screen readers.
export function field(labelText, attrs = {}, help = "") {
  const id = attrs.id || `f${++ids}`;
  const input = h(attrs.tag || "input", { ...attrs, tag: null, id, "aria-describedby": help ? `${id}-help` : null });
  const wrap = h("div", {}, h("label", { for: id }, labelText), input,
    help ? h("p", { id: `${id}-help`, class: "muted small" }, help) : null);
  return [wrap, input];
}

export function errorBox() {
  return h("p", { class: "error", role: "alert" });
}

export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
