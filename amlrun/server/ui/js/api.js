// Talking to amlrun serve. The session is an HttpOnly cookie the server sets at login, so
// this script never sees the token; state-changing requests carry the CSRF token the server
// hands out with the session (header X-CSRF-Token).

export class AuthError extends Error {}

/** For a page's background refresh: a session that ended (expired, token revoked) goes to
 *  the login form and back (false); any other failure is worth another try (true). */
export function refreshFailed(err) {
  if (!(err instanceof AuthError)) return true;
  location.hash = "#/login?" + new URLSearchParams({ next: location.hash });
  return false;
}

let csrf = null;

async function failure(resp) {
  let detail = resp.statusText;
  try {
    const body = await resp.json();
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? body);
  } catch (_) {
    /* not JSON: keep the status text */
  }
  return new Error(`${resp.status} ${detail}`);
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf || (await session()).csrf_token;
  const resp = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (resp.status === 401) throw new AuthError("log in first");
  if (!resp.ok) throw await failure(resp);
  return resp.status === 204 ? null : resp.json();
}

export const get = (path) => request("GET", path);
export const post = (path, body) => request("POST", path, body ?? {});

/** The current session ({name, scope, csrf_token}); AuthError when logged out. */
export async function session() {
  const resp = await fetch("/api/v1/session", { credentials: "same-origin" });
  if (resp.status === 401) throw new AuthError("log in first");
  if (!resp.ok) throw await failure(resp);
  const info = await resp.json();
  csrf = info.csrf_token;
  return info;
}

export async function login(token) {
  const resp = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({ token }),
  });
  if (!resp.ok) throw await failure(resp);
  const info = await resp.json();
  csrf = info.csrf_token;
  return info;
}

export async function logout() {
  // the server answers with a redirect to its own login form: not followed, ours is shown
  await fetch("/logout", {
    method: "POST",
    credentials: "same-origin",
    redirect: "manual",
    headers: { "X-CSRF-Token": csrf || "" },
  });
  csrf = null;
}

/** The text of a finished step's log. */
export async function logText(path) {
  const resp = await fetch(path, { credentials: "same-origin", headers: { Accept: "text/plain" } });
  if (resp.status === 401) throw new AuthError("log in first");
  if (!resp.ok) throw await failure(resp);
  return resp.text();
}
