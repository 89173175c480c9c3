// Published pipelines, and a form to submit a run of one with its parameters. Values are
// sent typed (a number field sends a number, a checkbox a boolean); the server checks them
// and a refusal (422) names the field, which the form shows.

import { get, post } from "./api.js";
import { h, link, show, table } from "./dom.js";

const enc = encodeURIComponent;

export const pipelineList = (body) => body.pipelines;

export async function pipelinesPage(main) {
  const pipelines = pipelineList(await get("/api/v1/pipelines"));
  const rows = pipelines.map((p) =>
    h("tr", { "data-pipeline": p.name },
      h("td", {}, p.name),
      h("td", {}, p.default_version),
      h("td", {}, p.description || ""),
      h("td", {}, Object.keys(p.parameters || {}).join(", ")),
      h("td", {}, link(["pipelines", p.name], "submit a run…")),
      h("td", {}, link(["runs"], "runs", { pipeline: p.name }))));
  show(main, h("h1", {}, "Published pipelines"),
    pipelines.length
      ? table(["Name", "Default version", "Description", "Parameters", "", ""], rows)
      : h("p", { class: "muted" }, "Nothing published yet: amlrun pipeline publish PIPELINE --name NAME"));
}

function field(name, param) {
  const type = param.type || "string";
  const attrs = { name, "data-type": type, id: "param-" + name };
  const input = type === "boolean"
    ? h("input", { ...attrs, type: "checkbox", checked: param.default === true })
    : h("input", { ...attrs, type: type === "integer" || type === "number" ? "number" : "text",
        step: type === "number" ? "any" : undefined, value: param.default ?? "" });
  return h("label", {}, `${name} (${type})`, input);
}

function value(input) {
  const type = input.dataset.type;
  if (type === "boolean") return input.checked;
  if (type === "integer" || type === "number") return input.value === "" ? null : Number(input.value);
  return input.value;
}

function versionPicker(versions) {
  return h("select", { name: "version", id: "submit-version" },
    versions.filter((v) => !v.disabled).map((v) =>
      h("option", { value: v.version, selected: v.default }, v.version + (v.default ? " (default)" : ""))));
}

export async function submitPage(main, name) {
  const { versions } = await get(`/api/v1/pipelines/${enc(name)}`);
  const chosen = versions.find((v) => v.default) || versions[versions.length - 1];
  const params = Object.entries(chosen.parameters || {});
  const version = versionPicker(versions);
  const error = h("p", { class: "error", id: "submit-error" });
  const form = h("form", { class: "card", id: "submit-form" },
    h("h1", {}, "Submit ", name),
    chosen.description ? h("p", { class: "muted" }, chosen.description) : null,
    params.length ? params.map(([n, p]) => field(n, p)) : h("p", { class: "muted" }, "This pipeline has no parameters."),
    h("label", {}, "Version", version),
    h("button", { type: "submit" }, "Submit"), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const parameters = {};
    for (const input of form.querySelectorAll("[data-type]")) parameters[input.name] = value(input);
    try {
      const { run_id } = await post(`/api/v1/pipelines/${enc(name)}/runs`,
        { parameters, version: version.value });
      location.hash = "#/runs/" + enc(run_id);
    } catch (err) {
      show(error, "Refused: " + err.message);
    }
  });
  show(main, form, h("p", {}, link(["pipelines"], "← published pipelines")));
}
