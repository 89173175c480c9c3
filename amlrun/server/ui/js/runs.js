// The runs list, newest first, filtered by pipeline and status (kept in the URL so a
// filtered list can be bookmarked and the back button works).

import { get } from "./api.js";
import { badge, h, link, show, table, took, when } from "./dom.js";

const STATUSES = ["", "queued", "running", "succeeded", "failed", "cancelled", "interrupted"];

export function runList(body) {
  return Array.isArray(body) ? body : body.runs || [];
}

function select(name, values, current) {
  return h("select", { name, id: "filter-" + name },
    values.map((v) => h("option", { value: v, selected: v === current }, v || "(any)")));
}

export async function runsPage(main, query) {
  const runs = runList(await get("/api/v1/runs?limit=500"));
  const pipeline = query.get("pipeline") || "";
  const status = query.get("status") || "";
  const pipelines = ["", ...new Set(runs.map((r) => r.pipeline))].sort();
  const statuses = [...new Set([...STATUSES, ...runs.map((r) => r.status)])];
  const shown = runs.filter(
    (r) => (!pipeline || r.pipeline === pipeline) && (!status || r.status === status),
  );
  const filters = h("form", { class: "filters", id: "run-filters" },
    h("label", {}, "Pipeline", select("pipeline", pipelines, pipeline)),
    h("label", {}, "Status", select("status", statuses, status)));
  filters.addEventListener("change", () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) q.set(k, v);
    location.hash = "#/runs" + (q.size ? "?" + q : "");
  });
  const rows = shown.map((r) =>
    h("tr", { "data-run": r.run_id },
      h("td", {}, link(["runs", r.run_id], r.run_id)),
      h("td", {}, r.pipeline),
      h("td", {}, badge(r.status)),
      h("td", {}, when(r.started)),
      h("td", { class: "num" }, took(r.started, r.finished))));
  show(main,
    h("h1", {}, "Runs"),
    filters,
    shown.length
      ? table(["Run", "Pipeline", "Status", "Started", "Took"], rows)
      : h("p", { class: "muted", id: "no-runs" }, "No runs match."));
}
