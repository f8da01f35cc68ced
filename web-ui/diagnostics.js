// The diagnostics page: log in with the box's admin password, then show the report the
// diagnostics service gathers (it works while the main daemon is down) and offer the bundle.
const $ = (id) => document.getElementById(id);
const GIB = 1024 ** 3;

function list(el, items) {
  el.replaceChildren(...items.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

function render(r) {
  const d = r.daemon;
  $("daemon").textContent = d.answering ? `running and answering (pid ${d.pid})`
    : d.running ? `running (pid ${d.pid}) but not answering: ${d.error}` : `NOT running: ${d.error}`;
  const problems = r.health.problems || [];
  list($("health"), problems.length ? problems.map((p) => `${p.severity}: ${p.reason} — ${p.remedy}`)
    : [`status: ${r.health.status}`]);
  list($("network"), r.network.map((n) => `${n.name} (${n.state}) ${n.addresses.join(", ")}`)
    .concat(r.routes.map((x) => `default route via ${x.via || "?"} on ${x.dev}`)));
  list($("disks"), r.disks.map((x) => `${x.path}: ${(x.free_bytes / GIB).toFixed(1)} of ${(x.total_bytes / GIB).toFixed(1)} GiB free`));
  $("versions").textContent = Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(" · ");
  $("log").textContent = r.log_tail.join("\n") || "(no log lines)";
}

async function load() {
  const resp = await fetch("/api/report", { cache: "no-store" });
  if (resp.status === 401) {
    $("login").hidden = false;
    $("report").hidden = true;
    return;
  }
  const data = await resp.json();
  if (!resp.ok) { $("message").textContent = data.reason; return; }
  $("login").hidden = true;
  $("report").hidden = false;
  $("message").textContent = "";
  render(data);
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const resp = await fetch("/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ password: $("password").value }),
  });
  $("password").value = "";
  if (!resp.ok) { $("message").textContent = (await resp.json()).reason; return; }
  load();
});
load();
setInterval(load, 10000);
