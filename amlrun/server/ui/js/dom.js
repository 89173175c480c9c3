// Building the page from data without ever parsing it as HTML: every value a run, a step, a
// log line or a parameter holds reaches the page through textContent or an attribute, so a
// hostile step name or log line shows as text and never runs (no innerHTML anywhere).

const SVG = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h("a", {href: "#/runs"}, "Runs"). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same rules as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

/** Replace everything inside `el` with `children`. */
export function show(el, ...children) {
  el.replaceChildren();
  return build(el, {}, children);
}

/** A hash link to a page of this UI; every part of the path is URL-encoded. */
export function link(parts, text, query) {
  const path = parts.map((p) => encodeURIComponent(p)).join("/");
  const qs = query ? "?" + new URLSearchParams(query).toString() : "";
  return h("a", { href: "#/" + path + qs }, text);
}

export function badge(status) {
  const known = /^[a-z]+$/.test(status || "") ? status : "queued";
  return h("span", { class: "badge " + known, "data-status": status || "" }, status || "queued");
}

export function table(header, rows) {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, header.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows),
  );
}

export function when(ts) {
  return ts ? new Date(ts * 1000).toLocaleString() : "-";
}

export function took(started, finished) {
  return started && finished ? (finished - started).toFixed(2) + "s" : "-";
}
