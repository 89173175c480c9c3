// Schedules (amlrun schedule create -f SCHEDULE.yml): what fires each, what it starts, and
// its newest firings with the runs they started; for an unchanged pipeline those runs are
// mostly full reuses, which their pages show.

import { get, refreshFailed } from "./api.js";
import { badge, h, link, show, table } from "./dom.js";

function firings(list) {
  if (!list.length) return h("span", { class: "muted" }, "not fired yet");
  return h("ul", {}, list.map((f) =>
    h("li", { "data-tick": f.tick }, f.tick, " ",
      f.run_id ? link(["runs", f.run_id], f.run_id) : "", " ",
      badge(f.outcome.split(" ")[0]), " ", f.outcome.includes(" ") ? f.outcome : "")));
}

const POLL_MS = 2000;

function render(main, schedules) {
  const rows = schedules.map((sc) =>
    h("tr", { "data-schedule": sc.name },
      h("td", {}, sc.display_name || sc.name, sc.description ? h("div", { class: "muted" }, sc.description) : null),
      h("td", { class: "mono" }, sc.problem ? h("span", { class: "error" }, sc.problem) : sc.trigger),
      h("td", {}, sc.published ? link(["pipelines", sc.published], sc.job) : sc.job || "-"),
      h("td", {}, sc.enabled ? "enabled" : "disabled"),
      h("td", {}, sc.next),
      h("td", {}, firings(sc.firings))));
  show(main, h("h1", {}, "Schedules"),
    schedules.length
      ? table(["Schedule", "Trigger", "Starts", "State", "Next tick", "Newest firings"], rows)
      : h("p", { class: "muted", id: "no-schedules" }, "No schedules: amlrun schedule create -f SCHEDULE.yml"));
}

/** The page, refreshed every two seconds so that new firings and their outcomes appear. */
export async function schedulesPage(main) {
  let timer = null;
  let stopped = false;
  async function load() {
    const { schedules } = await get("/api/v1/schedules");
    if (stopped) return;
    render(main, schedules);
    poll();
  }
  function poll() {
    timer = setTimeout(() => load().catch((err) => refreshFailed(err) && poll()), POLL_MS);
  }
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
