// The setup hotspot's page: list the networks the box sees, send the chosen one with its password,
// follow the attempt until it joined (show where the box is now) or failed (show why, pick again).
const $ = (id) => document.getElementById(id);
let chosen = null;

async function call(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const resp = await fetch(path, { cache: "no-store", ...init });
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.reason || resp.statusText);
  return data;
}

function render(s) {
  const msg = $("message");
  $("done").hidden = s.state !== "joined";
  $("pick").hidden = s.state === "joined" || s.state === "joining";
  if (s.state === "joining") msg.textContent = `Connecting to ${s.joining}…`;
  else if (s.state === "failed") msg.textContent = `Could not join ${s.joining}: ${s.reason}. Pick a network again.`;
  else if (s.state === "joined") msg.textContent = `The box joined ${s.joining}.`;
  else msg.textContent = s.networks.length ? "Pick the network the box should use." : "No networks seen yet.";
  if (s.state === "joined") {
    $("next-url").textContent = $("next-url").href = s.next_url;
    $("next-ip").textContent = s.next_address;
    $("next-ip").href = `http://${s.next_address}`;
  }
  const list = $("networks");
  list.replaceChildren(...s.networks.map((n) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "network";
    b.textContent = `${n.ssid} ${n.secured ? "🔒" : ""} ${n.strength}%`;
    b.addEventListener("click", () => {
      chosen = n;
      $("chosen").textContent = n.ssid;
      $("join").hidden = false;
      $("password").disabled = !n.secured;
      $("password").focus();
    });
    li.append(b);
    return li;
  }));
}

async function poll() {
  try {
    render(await call("/portal/api/status"));
  } catch (err) {
    $("message").textContent = `The box is busy (${err.message}); retrying…`;
  }
}

$("join").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!chosen) return;
  try {
    const pw = $("password").value;
    render(await call("/portal/api/join", { ssid_hex: chosen.ssid_hex, password: chosen.secured ? pw : null }));
    $("password").value = "";
    $("join").hidden = true;
  } catch (err) {
    $("message").textContent = err.message;
  }
});
$("rescan").addEventListener("click", async () => {
  try { render(await call("/portal/api/rescan", {})); } catch (err) { $("message").textContent = err.message; }
});
poll();
setInterval(poll, 1500);
