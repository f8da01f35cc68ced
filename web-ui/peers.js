// "Speed up initialization": pair the owner's other computers as helpers, see each one's labels/s
// next to the box's own and the ETA with and without them, and remove a helper.
import { attempt, get, post, request } from "./api.js";
import { errorBox, h, kv, replace } from "./dom.js";
import { duration, rate } from "./format.js";

const REFRESH_MS = 5000;

function helperRow(helper, live, onRemove) {
  const stats = live.find((s) => s.name === helper);
  const what = stats ? `${rate(stats.labels_per_second)} · ${stats.state} · ${stats.units_accepted} units` : "not seen yet";
  const remove = h("button", { type: "button", class: "link", onclick: () => onRemove(helper) }, "Remove");
  return h("li", {}, h("strong", {}, helper), " — ", what, " ", remove);
}

function view(card, status, parts, refresh) {
  const { err, codeOut, pair } = parts;
  if (!status.enabled) {
    const enable = h("button", { type: "button" }, "Let my computers help");
    enable.addEventListener("click", () => attempt(err, enable, async () => {
      await post("/peers/enable", {});
      await refresh();
    }));
    return replace(card, h("h3", {}, "Speed up initialization"),
      h("p", { class: "muted" }, "Helpers are off. Turning them on opens the box's helper service "
        + "(encrypted, one password per computer) on your home network."), enable, err);
  }
  const init = status.init;
  const onRemove = (name) => attempt(err, pair, async () => {
    await request("DELETE", `/peers/helpers/${encodeURIComponent(name)}`);
    await refresh();
  });
  const live = init ? init.helpers : [];
  return replace(card,
    h("h3", {}, "Speed up initialization"),
    h("p", { class: "muted small" },
      "Your other computers can compute PoST data for the box. The box checks ",
      `${status.samples_per_unit} random labels of every piece they send back and unpairs a computer that lies.`),
    init ? kv([
      ["This box", rate(init.box_labels_per_second)],
      ["With helpers", rate(init.box_labels_per_second + live.reduce((s, x) => s + x.labels_per_second, 0))],
      ["ETA, box alone", init.eta_seconds_box_only === null ? "—" : duration(init.eta_seconds_box_only)],
      ["ETA, with helpers", init.eta_seconds_with_helpers === null ? "—" : duration(init.eta_seconds_with_helpers)],
    ]) : null,
    status.helpers.length
      ? h("ul", { class: "plain" }, status.helpers.map((name) => helperRow(name, live, onRemove)))
      : h("p", { class: "muted" }, "No computer is paired."),
    status.broker !== "up" ? h("p", { class: "error" }, `Helper broker ${status.broker}; the box goes on alone meanwhile.`) : null,
    init && init.events.length ? h("p", { class: "small" }, init.events[init.events.length - 1]) : null,
    pair, codeOut, offButton(err, refresh), err);
}

function offButton(err, refresh) {
  const off = h("button", { type: "button", class: "link" }, "Turn helpers off");
  off.addEventListener("click", () => attempt(err, off, async () => {
    await post("/peers/disable");
    await refresh();
  }));
  return off;
}

// Appends the card to `root` and keeps it fresh while it is on screen.
export function showPeersCard(root) {
  const card = h("section", { class: "card peers", "aria-label": "Speed up initialization" });
  // made once, so a refresh keeps a code on screen and the last error visible
  const parts = { err: errorBox(), codeOut: h("p", { class: "small", role: "status" }),
    pair: h("button", { type: "button" }, "Pair a computer") };
  parts.pair.addEventListener("click", () => attempt(parts.err, parts.pair, async () => {
    const code = await post("/peers/code");
    replace(parts.codeOut, "On the computer run: ", h("code", {}, code.command),
      ` (code ${code.code}, valid ${duration(code.expires_in)}).`,
      h("img", { class: "qr", src: code.qr, alt: `QR code of the command with pairing code ${code.code}` }));
  }));
  root.append(card);
  const refresh = async () => {
    if (!card.isConnected) return;
    try { view(card, await get("/peers"), parts, refresh); } catch (e) { parts.err.textContent = e.message; }
    setTimeout(refresh, REFRESH_MS);
  };
  refresh();
  return card;
}
