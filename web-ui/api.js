// The one place that talks HTTP: JSON in/out, the CSRF header on every state change, and errors
// turned into ApiError with the server's sentence.
let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    const reason = (body && body.reason) || `request failed (${status})`;
    super(reason.charAt(0).toUpperCase() + reason.slice(1));
    this.status = status;
    this.code = body && body.error;
  }
}

export function setCsrf(token) { csrf = token; }

export async function request(method, path, body = undefined, { raw = false } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const resp = await fetch(`/api/v1${path}`, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const isJson = (resp.headers.get("Content-Type") || "").startsWith("application/json");
  if (!resp.ok) {
    const payload = isJson ? await resp.json() : null;
    const err = new ApiError(resp.status, payload);
    if (resp.status === 401 && !path.startsWith("/auth/") && !path.startsWith("/onboarding")) {
      window.dispatchEvent(new CustomEvent("smeshbox:unauthenticated"));
    }
    throw err;
  }
  if (raw) return resp.blob();
  if (resp.status === 204) return null;
  const data = isJson ? await resp.json() : null;
  if (data && data.csrf) csrf = data.csrf;
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body === undefined ? {} : body);
export const patch = (path, body) => request("PATCH", path, body);

// Runs fn, showing a failure's reason in errEl (role=alert) and disabling button meanwhile.
export async function attempt(errEl, button, fn) {
  errEl.textContent = "";
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    errEl.textContent = err.message;
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
