// Entry point: decides what to show (onboarding, login, dashboard, settings) and keeps the live
// stream connected while logged in.
import { ApiError, attempt, get, post, setCsrf } from "./api.js";
import { connectLive, disconnectLive, showDashboard } from "./dashboard.js";
import { errorBox, field, h, replace } from "./dom.js";
import { showOnboarding } from "./onboarding.js";
import { showPeersCard } from "./peers.js";
import { nodeModeCard } from "./nodemode.js";
import { showSettings } from "./settings.js";

const root = document.getElementById("main");
const nav = document.getElementById("nav");
const handlers = { current: {} }; // live-update handlers of the page on screen

function showLogin(message = "") {
  disconnectLive();
  nav.hidden = true;
  document.title = "Log in · Smeshbox";
  const err = errorBox();
  err.textContent = message;
  const [w, pw] = field("Admin password", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h("form", { class: "card" }, w, err, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    attempt(err, submit, async () => { await post("/auth/login", { password: pw.value }); await start(); });
  });
  replace(root, h("h2", {}, "Log in"), form);
  pw.focus();
}

async function route() {
  const page = location.hash === "#settings" ? "settings" : "dashboard";
  nav.hidden = false;
  for (const a of nav.querySelectorAll("a")) {
    if (a.id === `nav-${page}`) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  handlers.current = page === "settings" ? await showSettings(root) : showDashboard(root);
  if (page === "dashboard") showPeersCard(root);
  if (page === "dashboard") root.prepend(nodeModeCard()); // shown only in node mode
  root.focus();
}

async function start() {
  const status = await get("/onboarding");
  if (!status.password_set) {
    nav.hidden = true;
    return showOnboarding(root, { passwordSet: false, done: start });
  }
  try {
    setCsrf((await get("/auth/session")).csrf);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showLogin();
    throw err;
  }
  connectLive(handlers);
  if (!status.done) {
    nav.hidden = true;
    handlers.current = {};
    return showOnboarding(root, { passwordSet: true, done: start });
  }
  return route();
}

window.__smeshboxStarted = true; // boot.js: the modules loaded
window.addEventListener("hashchange", () => { if (!nav.hidden) route(); });
window.addEventListener("smeshbox:unauthenticated", () => showLogin("Your session ended; log in again."));
document.getElementById("logout").addEventListener("click", async () => {
  try { await post("/auth/logout"); } finally { showLogin(); }
});
start().catch((err) => replace(root, h("p", { class: "error", role: "alert" }, `The box did not answer: ${err.message}`)));
