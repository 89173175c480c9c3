// The runs submitted to this server, newest first, filtered by pipeline and status (kept in
// the URL so a filtered list can be bookmarked and the back button works).

import { get } from "./api.js";
import { badge, h, link, show, table, took, when } from "./dom.js";
import { pipelineList } from "./pipelines.js";

const STATUSES = ["", "queued", "running", "succeeded", "failed", "cancelled", "interrupted"];

export const runList = (body) => body.runs;

function select(name, values, current) {
  return h("select", { name, id: "filter-" + name },
    values.map((v) => h("option", { value: v, selected: v === current }, v || "(any)")));
}

export async function runsPage(main, query) {
  const pipeline = query.get("pipeline") || "";
  const status = query.get("status") || "";
  const filter = new URLSearchParams({ limit: "500" });
  if (pipeline) filter.set("pipeline", pipeline);
  if (status) filter.set("status", status);
  const [shown, published] = await Promise.all([
    get("/api/v1/runs?" + filter).then(runList),
    get("/api/v1/pipelines").then(pipelineList),
  ]);
  const pipelines = [...new Set(["", ...published.map((p) => p.name), pipeline])];
  const statuses = [...new Set([...STATUSES, status])];
  const filters = h("form", { class: "filters", id: "run-filters" },
    h("label", {}, "Pipeline", select("pipeline", pipelines, pipeline)),
    h("label", {}, "Status", select("status", statuses, status)));
  filters.addEventListener("change", () => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) q.set(k, v);
    location.hash = "#/runs" + (q.size ? "?" + q : "");
  });
  const rows = shown.map((r) =>
    h("tr", { "data-run": r.run_id, "data-pipeline": r.pipeline, "data-status": r.status },
      h("td", {}, link(["runs", r.run_id], r.run_id)),
      h("td", {}, r.pipeline, r.version ? ` (${r.version})` : ""),
      h("td", {}, badge(r.status)),
      h("td", {}, when(r.submitted)),
      h("td", { class: "num" }, took(r.started, r.finished))));
  show(main,
    h("h1", {}, "Runs"),
    filters,
    shown.length
      ? table(["Run", "Pipeline", "Status", "Submitted", "Took"], rows)
      : h("p", { class: "muted", id: "no-runs" }, "No runs match."));
}
