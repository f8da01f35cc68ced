// Node mode ("with my Spacemesh node"): the onboarding choice of how the box earns, the node's
// addresses, network preset and TLS files, each identity's post-service state, and the identity
// hand-off (each drive's key as a go-spacemesh key file for the node's data/identities/ folder).
// Everything here is validated by the server; this shows its answers.
import { attempt, get, patch, request } from "./api.js";
import { errorBox, field, h, kv, replace } from "./dom.js";
import { until } from "./format.js";

export const NODE_TEXT = "Works on the public Spacemesh network today. Your own go-spacemesh node (v1.7 or newer, on your PC or server) keeps the identity keys and the mesh; the box holds the PoST data and answers your node's proof requests.";
export const LIGHT_TEXT = "The box runs a small node of its own. It needs a gateway, which released Spacemesh software does not offer yet; in development the built-in devnet plays it.";

// The mode the box earns with, or null where the box has no node mode (the API answers 503).
export async function nodeMode() {
  try {
    return await get("/nodemode");
  } catch (err) {
    if (err.status === 503) return null;
    throw err;
  }
}

// Two big choices; onChosen(mode) runs after the server stored it.
export function earnChoice(view, onChosen) {
  const err = errorBox();
  const option = (mode, title, text) => h("button", {
    type: "button", class: `choice${view.mode === mode && view.chosen ? " chosen" : ""}`, "data-mode": mode,
    "aria-pressed": view.mode === mode && view.chosen ? "true" : "false",
    onclick: (e) => attempt(err, e.currentTarget, async () => onChosen(await patch("/nodemode", { mode }))),
  }, h("strong", {}, title), h("span", { class: "muted small" }, text));
  return h("div", { class: "choices" },
    option("node", "With my Spacemesh node", NODE_TEXT),
    option("light", "Built-in light node", LIGHT_TEXT), err);
}

const readText = (input) => (input.files.length ? input.files[0].text() : Promise.resolve(null));

// The node's addresses, the network preset and the optional TLS files. onSaved(view) after saving.
export function nodeForm(view, onSaved, submitLabel = "Save") {
  const err = errorBox();
  const note = h("p", { class: "note", role: "status" });
  const preset = h("select", { id: "nm-preset" }, view.presets.map((p) =>
    h("option", { value: p.name, selected: p.name === view.preset }, `${p.name} (k1 ${p.k1}, k2 ${p.k2}, min ${p.min_num_units} units)`)));
  const presetDefault = () => view.presets.find((p) => p.name === preset.value) || {};
  const [wa, address] = field("Your node's post listener", { value: view.node_address, autocomplete: "off",
    spellcheck: "false", autocapitalize: "none", placeholder: presetDefault().default_address || "http://192.168.1.20:9094" },
  "go-spacemesh's grpc-post-listener (set it to 0.0.0.0:9094 in the node's config so the box can reach it). Leave empty to use the preset's node.");
  const [wp, publicApi] = field("Your node's public API (optional)", { value: view.public_api, autocomplete: "off",
    spellcheck: "false", autocapitalize: "none", placeholder: presetDefault().default_public_api || "192.168.1.20:9092" },
  "grpc-public-listener: lets the box fill the commitment ATX from your node.");
  const [wc, ca] = field("Node's CA certificate (PEM)", { type: "file", accept: ".pem,.crt" });
  const [wk, cert] = field("This box's certificate (PEM)", { type: "file", accept: ".pem,.crt" });
  const [wy, key] = field("This box's private key (PEM)", { type: "file", accept: ".pem,.key" });
  const [wd, domain] = field("Name on the node's certificate (optional)", { value: view.tls_domain, autocomplete: "off",
    spellcheck: "false", autocapitalize: "none" }, "Only when it differs from the address's host.");
  const tls = h("details", {}, h("summary", {}, view.tls ? "TLS: files stored (replace them)" : "TLS (only if your node's post listener uses mTLS)"),
    h("p", { class: "muted small" }, "The files are uploaded once and kept on the box, readable only by it."), wc, wk, wy, wd);
  const submit = h("button", { type: "submit" }, submitLabel);
  const form = h("form", { class: "card", id: "node-form" }, h("h3", {}, "Your node"),
    h("label", { for: "nm-preset" }, "Network"), preset, wa, wp, tls, err, note, submit);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    note.textContent = "";
    attempt(err, submit, async () => {
      const files = await Promise.all([readText(ca), readText(cert), readText(key)]);
      if (files.some((f) => f !== null)) {
        if (files.some((f) => f === null)) throw new Error("Choose all three TLS files, or none.");
        await request("PUT", "/nodemode/tls", { ca_cert: files[0], cert: files[1], key: files[2] });
      }
      const saved = await patch("/nodemode", { preset: preset.value, node_address: address.value.trim(),
        public_api: publicApi.value.trim(), tls_domain: domain.value.trim() });
      note.textContent = "Saved.";
      onSaved(saved);
    });
  });
  return form;
}

function identityState(i) {
  if (i.phase === "connected") {
    if (i.state === "Proving") {
      const p = i.progress;
      const how = p ? (p.stage === "k2pow" ? `proof of work ${p.position}/${p.total}` : `scanning ${Math.floor((100 * p.position) / Math.max(1, p.total))} %`) : "starting";
      return `proving for your node (${how})`;
    }
    return "connected, waiting for your node's next proof request";
  }
  if (i.phase === "waiting for data") return "waiting for its PoST data to be complete";
  if (i.phase === "retrying") return `not connected; trying again ${until(i.next_attempt_at)}`;
  return i.phase;
}

// Each identity's post-service: connection, proving with progress, last proof delivered.
export function identitiesView(view) {
  if (!view.identities.length) return [h("p", { class: "muted" }, view.reason)];
  return view.identities.map((i) => h("section", { class: "nm-identity", "data-node-id": i.node_id },
    h("h3", {}, `Identity ${i.name}`),
    h("p", { class: "status-line" }, identityState(i)),
    i.message ? h("p", { class: "error small" }, i.message) : null,
    kv([["Node id", `${i.node_id.slice(0, 12)}…`], ["Drive", i.drive_id],
      ["Proofs delivered", i.proofs_delivered],
      ["Last proof", i.last_proof_at ? `${until(i.last_proof_at)}${i.last_proof_challenge === "0".repeat(64) ? " (initial post)" : ""}` : "none yet"],
      ["Last request from the node", i.last_request_at ? until(i.last_request_at) : "none yet"]])));
}

// The identity hand-off: download each key for the node; adopt a key from the node.
export function handoff(view) {
  const warning = h("p", { class: "warning", role: "note" }, view.warning);
  const how = h("p", {}, "Put each key file into your node's data folder under identities/ (for example ~/spacemesh/node-data/identities/), remove local.key there if it exists, and restart the node. Each drive is one identity with its own registration.");
  const adoptHow = h("p", { class: "muted small" }, "Already have an identity on your node? Give its key to a drive whose data is not finished yet: the drive then makes its data for that identity (what it had written is started again).");
  const items = view.identities.map((i) => {
    const err = errorBox();
    const note = h("p", { class: "note", role: "status" });
    const [wu, upload] = field(`Key from your node for ${i.name}`, { type: "file", accept: ".key" });
    const adopt = h("button", { type: "button", class: "secondary" }, "Use this key");
    adopt.addEventListener("click", () => attempt(err, adopt, async () => {
      if (!upload.files.length) throw new Error("Choose the key file first.");
      const res = await request("PUT", `/nodemode/identities/${i.node_id}/key`, { key: (await upload.files[0].text()).trim() });
      note.textContent = res.replaced
        ? `The drive now makes its data for identity ${res.node_id.slice(0, 12)}… (its own key is kept on the box).`
        : res.stored ? "Key stored for this dataset." : "The box already holds this key.";
    }));
    return h("section", { class: "card", "data-node-id": i.node_id }, h("h3", {}, i.name),
      h("p", {}, h("a", { href: `/api/v1/nodemode/identities/${i.node_id}/key`, download: i.key_file, class: "button" },
        `Download ${i.key_file}`)), wu, adopt, err, note);
  });
  return [warning, how, adoptHow, ...(items.length ? items : [h("p", { class: "muted" }, "No drive holds a dataset yet; choose drives first.")])];
}

const SMH = 1e9; // smidge per SMH
const smh = (smidge) => `${(smidge / SMH).toLocaleString("en", { maximumFractionDigits: 3 })} SMH`;

// What each identity earned, from the node's public API; without it, where to look.
function earningsView(e) {
  if (!e) return [];
  if (!e.available) return [h("p", { class: "muted small" }, e.where)];
  const n = e.node;
  return [h("h3", {}, "Earned (from your node)"),
    kv([["Node", `${n.sync}, layer ${n.current_layer.toLocaleString("en")}, ${n.connected_peers} peers`]]),
    ...n.identities.map((i) => h("div", { class: "nm-earned", "data-node-id": i.node_id },
      h("p", {}, h("strong", {}, `${i.node_id.slice(0, 12)}…`), ` ${smh(i.total_smidge)} in the last ${i.rewards.length} rewards`),
      h("p", { class: "muted small" }, i.atxs.length
        ? `ATXs in epochs ${i.atxs.map((a) => a.publish_epoch).join(", ")}`
        : "No ATX yet: the first comes one epoch after the initial post.")))];
}

// The dashboard card: what the box does for the person's node, refreshed while it is on screen.
export function nodeModeCard() {
  const card = h("section", { class: "card", id: "nodemode-card", "aria-label": "Your node" }, h("p", { class: "muted" }, "Loading…"));
  let earned = null;
  let rounds = 0;
  async function draw() {
    if (!card.isConnected && card.dataset.drawn) return;
    const view = await nodeMode().catch(() => null);
    if (!view || view.mode !== "node") { card.remove(); return; }
    if (rounds++ % 10 === 0) earned = await get("/nodemode/earnings").catch(() => earned);
    card.dataset.drawn = "1";
    replace(card, h("h2", {}, "Your Spacemesh node"), h("p", { class: "status-line" }, view.reason),
      view.next_proof_expected_at ? h("p", { class: "muted small" },
        `Your node should next ask for proofs ${until(view.next_proof_expected_at)} (when its PoET round ends).`) : null,
      ...identitiesView(view), ...earningsView(earned));
    setTimeout(draw, 3000);
  }
  draw();
  return card;
}

// What new datasets commit to: typed, or the node's highest ATX (ActivationService.Highest).
function commitmentForm(view, onSaved) {
  const err = errorBox();
  const [w, atx] = field("Commitment ATX for new datasets", { value: view.commitment_atx_id, autocomplete: "off",
    spellcheck: "false", autocapitalize: "none" }, "Fill it from your node (needs its public API above), or paste one.");
  const save = h("button", { type: "button", class: "secondary" }, "Save");
  save.addEventListener("click", () => attempt(err, save, async () => onSaved(await patch("/nodemode", { commitment_atx_id: atx.value.trim() }))));
  const ask = h("button", { type: "button", id: "ask-node" }, "Ask my node");
  ask.addEventListener("click", () => attempt(err, ask, async () => onSaved(await request("POST", "/nodemode/commitment", {}))));
  return h("div", {}, w, save, ask, err);
}

// The settings page's section: how the box earns, the node form and the hand-off.
export async function nodeModeSettings() {
  const view = await nodeMode();
  if (!view) return null;
  const section = h("section", { class: "card", id: "nodemode-settings" });
  function render(v) {
    replace(section, h("h3", {}, "How the box earns"), earnChoice(v, render),
      ...(v.mode === "node" ? [nodeForm(v, render), h("h3", {}, "Identity hand-off"), ...handoff(v)] : []),
      v.mode === "node" ? commitmentForm(v, render) : null,
      h("p", { class: "muted small" }, v.reason));
  }
  render(view);
  return section;
}
