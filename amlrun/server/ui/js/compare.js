// Two runs side by side: per step, the status in each, whether its key changed, why the
// second ran, and the parameters and metrics that differ; changed rows are highlighted.

import { get } from "./api.js";
import { badge, h, link, show, table } from "./dom.js";
import { graphUrl } from "./run.js";
import { runList } from "./runs.js";

function differences(a, b) {
  const keys = [...new Set([...Object.keys(a || {}), ...Object.keys(b || {})])].sort();
  const fmt = (v) => (v === undefined ? "∅" : typeof v === "string" ? v : JSON.stringify(v));
  return keys
    .filter((k) => JSON.stringify(a?.[k]) !== JSON.stringify(b?.[k]))
    .map((k) => `${k}: ${fmt(a?.[k])} → ${fmt(b?.[k])}`);
}

function lastValues(metrics) {
  return Object.fromEntries(Object.entries(metrics || {}).map(([k, m]) => [k, m.last]));
}

function picker(runs, name, current) {
  return h("label", {}, name === "a" ? "Run A" : "Run B",
    h("select", { name, id: "compare-" + name },
      h("option", { value: "" }, "(choose)"),
      runs.map((r) => h("option", { value: r.run_id, selected: r.run_id === current },
        `${r.run_id} · ${r.pipeline} · ${r.status}`))));
}

function row(name, a, b) {
  const changes = [
    ...differences(a?.parameters, b?.parameters),
    ...differences(lastValues(a?.metrics), lastValues(b?.metrics)),
  ];
  const keyChanged = (a?.key || null) !== (b?.key || null);
  return h("tr", { class: keyChanged || changes.length ? "changed" : "", "data-step": name },
    h("td", {}, name),
    h("td", {}, a ? badge(a.status) : "—"),
    h("td", {}, b ? badge(b.status) : "—"),
    h("td", {}, keyChanged ? "changed" : "same"),
    h("td", {}, b?.status === "ran" ? b.reason || "" : ""),
    h("td", { class: "mono" }, changes.join("\n")));
}

export async function comparePage(main, query) {
  const runs = runList(await get("/api/v1/runs?limit=500"));
  const form = h("form", { class: "filters", id: "compare-form" },
    picker(runs, "a", query.get("a")), picker(runs, "b", query.get("b")),
    h("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = "#/compare?" + new URLSearchParams(new FormData(form));
  });
  const result = h("div", { id: "compare-result" });
  show(main, h("h1", {}, "Compare two runs"), form, result);
  if (!query.get("a") || !query.get("b")) return;
  const [ga, gb] = await Promise.all([get(graphUrl(query.get("a"))), get(graphUrl(query.get("b")))]);
  const byName = (g) => new Map(g.nodes.map((n) => [n.name, n]));
  const [na, nb] = [byName(ga), byName(gb)];
  const names = [...new Set([...na.keys(), ...nb.keys()])];
  show(result,
    h("p", {}, link(["runs", ga.run_id], ga.run_id), " (", ga.pipeline, ") vs ",
      link(["runs", gb.run_id], gb.run_id), " (", gb.pipeline, ")"),
    table(["Step", "A", "B", "Key", "Why B ran", "Parameter and metric changes"],
      names.map((n) => row(n, na.get(n), nb.get(n)))));
}
