// The pipeline graph: dagre (vendored, window.dagre) lays the steps out left to right, this
// file draws them as SVG. Nodes are coloured by status; a reused step carries a ♻ mark that
// links to the run that produced it.

import { s } from "./dom.js";

const HEIGHT = 46;
const MAX_LABEL = 38;

function short(text) {
  return text.length > MAX_LABEL ? text.slice(0, MAX_LABEL - 1) + "…" : text;
}

function subLabel(node, status) {
  if (status === "ran" && node.duration_s != null) return `ran · ${node.duration_s.toFixed(1)}s`;
  return status === "reused" ? "reused · not rerun" : status;
}

let cached = { shape: null, layout: null }; // dagre is slow on big graphs (~6 s at 1000 steps)

/** The layout of `graph`'s steps and edges, computed again only when those change (a new
 *  status is a redraw, not a layout). */
function layout(graph) {
  const shape = JSON.stringify([graph.nodes.map((n) => n.name), graph.edges]);
  if (shape !== cached.shape) cached = { shape, layout: computeLayout(graph) };
  return cached.layout;
}

function computeLayout(graph) {
  const g = new window.dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 70, marginx: 16, marginy: 16 });
  graph.nodes.forEach((node, i) => {
    const chars = Math.max(short(node.name).length, 18);
    g.setNode("n" + i, { width: Math.max(130, chars * 7.4 + 44), height: HEIGHT });
  });
  const index = new Map(graph.nodes.map((n, i) => [n.name, "n" + i]));
  graph.edges.forEach((e, i) => {
    if (index.has(e.source) && index.has(e.target))
      g.setEdge(index.get(e.source), index.get(e.target), { edge: e }, "e" + i);
  });
  window.dagre.layout(g);
  return g;
}

function edgePath(points) {
  return points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
}

function drawNode(node, box, selected, onSelect) {
  const status = node.status || "queued";
  const x = box.x - box.width / 2;
  const y = box.y - box.height / 2;
  const group = s(
    "g",
    {
      class: `node ${/^[a-z]+$/.test(status) ? status : "queued"}${selected ? " selected" : ""}`,
      "data-step": node.name,
      "data-status": status,
      transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
      tabindex: 0,
      role: "button",
      "aria-label": `step ${node.name}: ${status}`,
      onclick: () => onSelect(node.name),
      onkeydown: (ev) => (ev.key === "Enter" || ev.key === " ") && onSelect(node.name),
    },
    s("title", {}, `${node.name}: ${status}`),
    s("rect", { width: box.width, height: box.height }),
    s("text", { x: 12, y: 19 }, short(node.name)),
    s("text", { x: 12, y: 35, class: "sub" }, subLabel(node, status)),
  );
  if (status === "reused") {
    const mark = s("text", { x: box.width - 22, y: 20, class: "reused-mark" }, "♻");
    group.append(
      node.produced_by
        ? s("a", { href: "#/runs/" + encodeURIComponent(node.produced_by), class: "producer",
            "data-run": node.produced_by, onclick: (ev) => ev.stopPropagation() },
            s("title", {}, "reused: produced by run " + node.produced_by),
            s("circle", { cx: box.width - 16, cy: 15, r: 13, class: "mark-hit" }), mark)
        : mark,
    );
  }
  return group;
}

/** An <svg> of `graph` ({nodes, edges}); clicking a node calls onSelect(stepName). */
export function drawGraph(graph, selected, onSelect) {
  const g = layout(graph);
  const { width, height } = g.graph();
  const svg = s("svg", { width: Math.max(width, 200), height: Math.max(height, 80), role: "img" });
  svg.append(
    s("defs", {},
      s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
        markerHeight: 7, orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9aa1ab" }))),
  );
  for (const ref of g.edges()) {
    const { points, edge } = g.edge(ref);
    const mid = points[Math.floor(points.length / 2)];
    svg.append(
      s("g", { class: "edge" },
        s("title", {}, `${edge.source}.${edge.output} → ${edge.target}.${edge.input}`),
        s("path", { d: edgePath(points), "marker-end": "url(#arrow)" }),
        s("text", { x: mid.x + 4, y: mid.y - 4 }, short(edge.output))),
    );
  }
  graph.nodes.forEach((node, i) => {
    svg.append(drawNode(node, g.node("n" + i), node.name === selected, onSelect));
  });
  return svg;
}
