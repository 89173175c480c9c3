// Schedules (amlrun schedule create -f SCHEDULE.yml): their trigger, state, last and next
// tick; each fired tick is a run, so the runs list shows what they did.

import { get } from "./api.js";
import { h, link, show, table, when } from "./dom.js";

export async function schedulesPage(main) {
  const body = await get("/api/v1/schedules");
  const schedules = Array.isArray(body) ? body : body.schedules || [];
  const rows = schedules.map((sc) =>
    h("tr", { "data-schedule": sc.name },
      h("td", {}, sc.name),
      h("td", {}, sc.trigger?.type || sc.trigger || "-"),
      h("td", { class: "mono" }, sc.trigger?.expression || sc.description || ""),
      h("td", {}, sc.enabled === false ? "disabled" : "enabled"),
      h("td", {}, when(sc.last_tick)),
      h("td", {}, when(sc.next_tick)),
      h("td", {}, sc.pipeline ? link(["runs"], sc.pipeline, { pipeline: sc.pipeline }) : "-")));
  show(main, h("h1", {}, "Schedules"),
    schedules.length
      ? table(["Name", "Trigger", "Expression", "State", "Last tick", "Next tick", "Pipeline"], rows)
      : h("p", { class: "muted" }, "No schedules: amlrun schedule create -f SCHEDULE.yml"));
}
