// Published pipelines, and a form to submit a run of one with its parameters. Values are
// sent typed (a number field sends a number, a checkbox a boolean); the server checks them
// and a 422 names the field, which the form shows.

import { get, post } from "./api.js";
import { h, link, show, table } from "./dom.js";

const enc = encodeURIComponent;

export function pipelineList(body) {
  return Array.isArray(body) ? body : body.pipelines || [];
}

export async function pipelinesPage(main) {
  const pipelines = pipelineList(await get("/api/v1/pipelines"));
  const rows = pipelines.map((p) =>
    h("tr", { "data-pipeline": p.name },
      h("td", {}, p.name),
      h("td", {}, p.default_version ?? p.version ?? "-"),
      h("td", {}, (p.versions || []).join(", ")),
      h("td", {}, p.description || ""),
      h("td", {}, p.disabled ? "disabled" : link(["pipelines", p.name], "submit a run…")),
      h("td", {}, link(["runs"], "runs", { pipeline: p.pipeline || p.name }))));
  show(main, h("h1", {}, "Published pipelines"),
    pipelines.length
      ? table(["Name", "Default", "Versions", "Description", "", ""], rows)
      : h("p", { class: "muted" }, "Nothing published yet: amlrun pipeline publish PIPELINE --name NAME"));
}

function field(param) {
  const type = param.type || "string";
  const attrs = { name: param.name, "data-type": type };
  let input;
  if (type === "boolean") input = h("input", { ...attrs, type: "checkbox", checked: param.default === true });
  else if (param.enum && param.enum.length)
    input = h("select", attrs, param.enum.map((v) => h("option", { value: v, selected: v === param.default }, v)));
  else input = h("input", { ...attrs, type: type === "integer" || type === "number" ? "number" : "text",
    step: type === "number" ? "any" : undefined, value: param.default ?? "" });
  return h("label", {}, `${param.name} (${type})${param.description ? " — " + param.description : ""}`, input);
}

function value(input) {
  const type = input.dataset.type;
  if (type === "boolean") return input.checked;
  if (input.value === "") return undefined;
  if (type === "integer" || type === "number") return Number(input.value);
  return input.value;
}

export async function submitPage(main, name) {
  const info = await get(`/api/v1/pipelines/${enc(name)}`);
  const params = info.parameters || [];
  const error = h("p", { class: "error", id: "submit-error" });
  const version = h("input", { name: "version", placeholder: "default", value: "" });
  const form = h("form", { class: "card", id: "submit-form" },
    h("h1", {}, "Submit ", name),
    params.length ? params.map(field) : h("p", { class: "muted" }, "This pipeline has no parameters."),
    h("label", {}, "Version", version),
    h("button", { type: "submit" }, "Submit"), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const parameters = {};
    for (const input of form.querySelectorAll("[data-type]")) {
      const v = value(input);
      if (v !== undefined) parameters[input.name] = v;
    }
    try {
      const body = { parameters, ...(version.value ? { version: version.value } : {}) };
      const { run_id } = await post(`/api/v1/pipelines/${enc(name)}/runs`, body);
      location.hash = "#/runs/" + enc(run_id);
    } catch (err) {
      show(error, "Refused: " + err.message);
    }
  });
  show(main, form, h("p", {}, link(["pipelines"], "← published pipelines")));
}
