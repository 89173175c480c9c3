// The single page: a hash router (#/runs, #/runs/ID, #/compare, #/pipelines, #/schedules,
// #/login) that asks the server for the session first and sends a logged-out user to login.

import { AuthError, login, logout, session } from "./api.js";
import { h, show } from "./dom.js";
import { comparePage } from "./compare.js";
import { pipelinesPage, submitPage } from "./pipelines.js";
import { runPage } from "./run.js";
import { runsPage } from "./runs.js";
import { schedulesPage } from "./schedules.js";

const main = document.getElementById("main");
let stopPage = null; // the current page's cleanup (timers, event streams)

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query || "") };
}

function loginPage(next) {
  const token = h("input", { type: "password", name: "token", id: "token", required: true,
    autocomplete: "current-password" });
  const error = h("p", { class: "error", id: "login-error" });
  const form = h("form", { class: "card", id: "login-form" },
    h("h1", {}, "Log in to amlrun serve"),
    h("label", {}, "Access token (amlrun token create NAME --scope read)", token),
    h("button", { type: "submit" }, "Log in"),
    error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await login(token.value);
      location.hash = next || "#/runs";
      render();
    } catch (err) {
      show(error, "Login refused: " + err.message);
    }
  });
  show(main, form);
  token.focus();
}

const PAGES = {
  runs: (r) => (r.parts.length > 1 ? runPage(main, r.parts[1], r.query) : runsPage(main, r.query)),
  compare: (r) => comparePage(main, r.query),
  pipelines: (r) => (r.parts.length > 1 ? submitPage(main, r.parts[1]) : pipelinesPage(main)),
  schedules: () => schedulesPage(main),
};

async function render() {
  if (stopPage) stopPage();
  stopPage = null;
  const r = route();
  const logoutButton = document.getElementById("logout");
  if (r.parts[0] === "login") {
    logoutButton.hidden = true;
    return loginPage(r.query.get("next"));
  }
  try {
    await session();
    logoutButton.hidden = false;
    const page = PAGES[r.parts[0]] || PAGES.runs;
    stopPage = (await page(r)) || null;
  } catch (err) {
    if (err instanceof AuthError) {
      logoutButton.hidden = true;
      return loginPage(location.hash);
    }
    show(main, h("p", { class: "error" }, String(err.message || err)));
  }
}

document.getElementById("logout").addEventListener("click", async () => {
  await logout().catch(() => {});
  location.hash = "#/login";
});
window.addEventListener("hashchange", render);
render();
