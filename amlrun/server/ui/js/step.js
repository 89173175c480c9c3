// The panel of one step: what it is (parameters, inputs), what it produced (outputs
// to download, the metrics and params its script logged through mlflow), why it ran or whose result it reused (key, reason, producer), and
// its log: streamed over Server-Sent Events while it runs, read whole once it has finished.

import { logText } from "./api.js";
import { badge, h, link, show, table } from "./dom.js";

const enc = encodeURIComponent;

function pairs(obj) {
  const entries = Object.entries(obj || {});
  return entries.length
    ? table(["Name", "Value"], entries.map(([k, v]) =>
        h("tr", {}, h("td", {}, k), h("td", { class: "mono" }, typeof v === "string" ? v : JSON.stringify(v)))))
    : h("p", { class: "muted" }, "none");
}

function inputs(node) {
  const entries = Object.entries(node.inputs || {});
  if (!entries.length) return h("p", { class: "muted" }, "none");
  return table(["Name", "Bound to", "Content hash"], entries.map(([k, v]) =>
    h("tr", {}, h("td", {}, k), h("td", { class: "mono" }, v),
      h("td", { class: "mono" }, (node.input_hashes || {})[k] || "-"))));
}

function metrics(node) {
  const entries = Object.entries(node.metrics || {});
  if (!entries.length) return h("p", { class: "muted" }, "none logged");
  return table(["Metric", "Last", "At step", "Points"], entries.map(([k, m]) =>
    h("tr", { "data-metric": k }, h("td", {}, k), h("td", { class: "num" }, m.last),
      h("td", { class: "num" }, m.step), h("td", { class: "num" }, m.count))));
}

function outputs(graph, node) {
  if (!node.outputs.length) return h("p", { class: "muted" }, "none");
  const ready = graph.submitted && (node.status === "ran" || node.status === "reused");
  return h("ul", {}, node.outputs.map((o) =>
    h("li", {}, ready
      ? h("a", { href: `/api/v1/runs/${enc(graph.run_id)}/outputs/${enc(node.name)}/${enc(o)}`,
          download: "", class: "download" }, o)
      : o)));
}

function streamLog(pre, url) {
  const source = new EventSource(url, { withCredentials: true });
  source.onmessage = (ev) => pre.append(document.createTextNode(ev.data + "\n"));
  source.addEventListener("end", () => source.close());
  source.onerror = () => source.close();
  return () => source.close();
}

/** Fill `side` with the panel of `node`; returns {stop} to close its log stream. */
export function stepPanel(side, graph, node) {
  const pre = h("pre", { class: "log", id: "step-log" });
  // a reused step did not run here: its log is the one of the run that produced it
  const logRun = node.status === "reused" && node.produced_by ? node.produced_by : graph.run_id;
  const logUrl = `/api/v1/runs/${enc(logRun)}/steps/${enc(node.name)}/logs`;
  show(side,
    h("h2", {}, h("span", { id: "step-name" }, node.name), " ", badge(node.status)),
    h("dl", {},
      h("dt", {}, "key"), h("dd", { class: "mono", id: "step-key" }, node.key || "(not known yet)"),
      h("dt", {}, "why"), h("dd", { id: "step-reason" }, node.reason || "-"),
      h("dt", {}, "time"), h("dd", {}, node.duration_s != null ? node.duration_s.toFixed(2) + "s" : "-"),
      h("dt", {}, "backend"), h("dd", {}, node.backend || "-"),
      node.produced_by ? [h("dt", {}, "produced by"),
        h("dd", { id: "step-producer" }, link(["runs", node.produced_by], node.produced_by, { step: node.name }))] : null),
    h("h2", {}, "Parameters"), pairs(node.parameters),
    h("h2", {}, "Inputs"), inputs(node),
    h("h2", {}, "Outputs"), outputs(graph, node),
    h("h2", {}, "Metrics"), metrics(node),
    h("h2", {}, "Logged params"), pairs(node.logged_params),
    h("h2", {}, "Log", logRun !== graph.run_id ? ` (of run ${logRun}, which produced it)` : ""), pre);
  if (node.status === "running") return { stop: streamLog(pre, logUrl) };
  if (node.status && node.has_log)
    logText(logUrl).then((text) => pre.append(document.createTextNode(text)),
      (err) => pre.append(document.createTextNode(`(no log: ${err.message})`)));
  else pre.append(document.createTextNode("(no log yet)"));
  return { stop: () => {} };
}
