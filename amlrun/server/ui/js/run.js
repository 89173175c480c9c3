// A run's page: the graph, a legend, and the selected step's panel. While the run is queued
// or running the page polls its graph once a second, so nodes turn green as steps finish,
// and offers to cancel it.

import { get, post, refreshFailed } from "./api.js";
import { badge, h, link, show, took, when } from "./dom.js";
import { drawGraph } from "./graph.js";
import { stepPanel } from "./step.js";

const POLL_MS = 1000;
const LIVE = new Set(["queued", "running"]);
const LEGEND = ["queued", "running", "ran", "reused", "failed", "skipped", "cancelled"];

export const graphUrl = (runId) => `/api/v1/ui/runs/${encodeURIComponent(runId)}/graph`;

export async function runPage(main, runId, query) {
  let selected = query.get("step");
  let timer = null;
  let loading = null;
  let stopped = false;
  let lastDrawn = null;
  let panel = null; // {name, status, stop}: the step panel shown, and how to close it
  const graphBox = h("div", { class: "graph", id: "graph" });
  const side = h("aside", { class: "panel", id: "step-panel" },
    h("p", { class: "muted" }, "Click a step to see its parameters, key, log and metrics."));
  const head = h("div", { id: "run-head" });
  show(main, head,
    h("div", { class: "legend" }, LEGEND.map((st) => badge(st)), h("span", { class: "muted" }, "♻ = reused: links to the run that produced it")),
    h("div", { class: "runpage" }, graphBox, side));

  function select(name) {
    selected = name;
    history.replaceState(null, "", `#/runs/${encodeURIComponent(runId)}?step=${encodeURIComponent(name)}`);
    refresh();
  }

  function showPanel(graph) {
    const node = graph.nodes.find((n) => n.name === selected);
    if (!node) return;
    if (panel && panel.name === node.name && panel.status === node.status) return;
    if (panel) panel.stop();
    panel = { name: node.name, status: node.status, ...stepPanel(side, graph, node) };
  }

  async function cancel(ev) {
    ev.target.disabled = true;
    await post(`/api/v1/runs/${encodeURIComponent(runId)}/cancel`).then(refresh, (err) =>
      head.append(h("p", { class: "error" }, "Cancel refused: " + err.message)));
  }

  function poll() {
    timer = setTimeout(() => refresh().catch((err) => refreshFailed(err) && poll()), POLL_MS);
  }

  // one load at a time: a click or a cancel during a load is drawn when that load returns
  function refresh() {
    if (!loading) loading = load().finally(() => { loading = null; });
    return loading;
  }

  async function load() {
    clearTimeout(timer);
    const graph = await get(graphUrl(runId));
    if (stopped) return;
    if (LIVE.has(graph.status)) poll();
    // redraw only what changed: a click on a node redrawn under the pointer would be lost
    const drawn = JSON.stringify([graph, selected]);
    if (drawn === lastDrawn) return;
    lastDrawn = drawn;
    show(head,
      h("h1", {}, "Run ", h("span", { class: "mono", id: "run-id" }, graph.run_id), " ", badge(graph.status),
        LIVE.has(graph.status) && graph.submitted
          ? [" ", h("button", { type: "button", id: "cancel-run", onclick: cancel }, "Cancel run")]
          : null),
      h("p", { class: "muted" }, graph.pipeline, " · ", graph.source, " · started ", when(graph.started),
        " · took ", took(graph.started, graph.finished), " · ",
        link(["compare"], "compare with…", { a: graph.run_id })),
      graph.note ? h("p", { class: "muted" }, graph.note) : null);
    const focused = graphBox.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-step") : null;
    show(graphBox, drawGraph(graph, selected, select));
    if (focused) graphBox.querySelector(`g.node[data-step="${CSS.escape(focused)}"]`)?.focus();
    showPanel(graph);
  }

  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (panel) panel.stop();
  };
}
