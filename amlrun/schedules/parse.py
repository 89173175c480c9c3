"""The v2 schedule YAML (``az ml schedule create -f``) read into a :class:`Schedule`.

Every problem is a SpecError naming the file, the field and the fix. amlrun's own
additions sit under one ``amlrun:`` mapping (``catch_up``) or are new trigger types
(``type: data``), so a file Azure ML accepts keeps its meaning here.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.schedules.model import (
    CATCH_UP,
    FREQUENCIES,
    CronTrigger,
    DataTrigger,
    Job,
    RecurrenceTrigger,
    Schedule,
    TimeWindow,
    Trigger,
)

TOP_KEYS = (
    "$schema",
    "name",
    "display_name",
    "description",
    "tags",
    "properties",
    "trigger",
    "create_job",
    "amlrun",
)
WINDOW_KEYS = ("type", "start_time", "end_time", "time_zone")
TRIGGER_KEYS = {
    "cron": (*WINDOW_KEYS, "expression"),
    "recurrence": (*WINDOW_KEYS, "frequency", "interval", "schedule"),
    "data": ("type", "path", "polling_interval"),
}
WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")
_UNITS = {"s": 1, "m": 60, "": 60, "h": 3600}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


class _Reader:
    """Field access on one document with errors that name the file, line and field."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, where: Any, key: Any, field: str, message: str, fix: str | None = None):
        line = getattr(where, "lines", {}).get(key) or getattr(where, "line", None)
        raise SpecError(message, file=self.file, line=line, field=field, fix=fix)

    def mapping(self, parent: Any, key: str, field: str, required: bool = True) -> dict:
        value = parent.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            what = "is missing" if value is None else "must be a mapping"
            self.fail(parent, key, field, what, f"write '{key}:' with indented 'key: value' lines")
        return value

    def known(self, doc: dict, allowed: tuple[str, ...], where: str) -> None:
        for key in doc:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                fix = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(allowed)}"
                self.fail(doc, key, f"{where}{key}", "unknown field", fix)


def parse_schedule(doc: Any, file: Path, catch_up: str | None = None) -> Schedule:
    """The schedule in ``doc`` (loaded from ``file``); ``catch_up`` overrides the file's."""
    r = _Reader(file)
    if not isinstance(doc, dict):
        raise SpecError("a schedule must be a mapping", file=file, fix="see docs/schedules.md")
    r.known(doc, TOP_KEYS, "")
    name = doc.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        r.fail(doc, "name", "name", "must be a name of letters, digits, '-' and '_'")
    ext = r.mapping(doc, "amlrun", "amlrun", required=False)
    r.known(ext, ("catch_up",), "amlrun.")
    policy = catch_up or ext.get("catch_up", "none")
    if policy not in CATCH_UP:
        r.fail(
            ext,
            "catch_up",
            "amlrun.catch_up",
            f"unknown policy {policy!r}",
            f"use one of {', '.join(CATCH_UP)}",
        )
    return Schedule(
        name=name,
        trigger=_trigger(r, r.mapping(doc, "trigger", "trigger")),
        job=_job(r, doc),
        catch_up=policy,
        display_name=str(doc.get("display_name") or ""),
        description=str(doc.get("description") or ""),
    )


def _trigger(r: _Reader, t: dict) -> Trigger:
    kind = str(t.get("type", "")).lower()
    if kind not in TRIGGER_KEYS:
        r.fail(
            t,
            "type",
            "trigger.type",
            f"unknown trigger type {t.get('type')!r}",
            "use cron, recurrence or data",
        )
    r.known(t, TRIGGER_KEYS[kind], "trigger.")
    if kind == "data":
        return _data(r, t)
    window = _window(r, t)
    if kind == "cron":
        expression = t.get("expression")
        if not isinstance(expression, str):
            r.fail(
                t,
                "expression",
                "trigger.expression",
                "is missing",
                'write a cron expression such as "0 * * * *"',
            )
        from cronsim import CronSim, CronSimError

        try:
            CronSim(expression, window.start or _now())
        except CronSimError as exc:
            r.fail(
                t,
                "expression",
                "trigger.expression",
                f"invalid cron expression: {exc}",
                "write five fields: minute hour day-of-month month day-of-week",
            )
        return CronTrigger(expression, window)
    return _recurrence(r, t, window)


def _window(r: _Reader, t: dict) -> TimeWindow:
    from amlrun.schedules.zones import known_names, parse_time, zone

    name = str(t.get("time_zone") or "UTC")
    try:
        tz = zone(name)
    except KeyError:
        close = difflib.get_close_matches(name, known_names(), n=1)
        r.fail(
            t,
            "time_zone",
            "trigger.time_zone",
            f"unknown time zone {name!r}",
            f"did you mean '{close[0]}'?"
            if close
            else 'write a Windows name ("Pacific Standard Time") or an IANA one',
        )
    times = {}
    for key in ("start_time", "end_time"):
        if t.get(key) is None:
            times[key] = None
            continue
        try:
            times[key] = parse_time(t[key], tz)
        except ValueError:
            r.fail(
                t,
                key,
                f"trigger.{key}",
                f"{t[key]!r} is not a time",
                "write an ISO 8601 time such as 2024-07-10T10:00:00",
            )
    if times["start_time"] and times["end_time"] and times["end_time"] <= times["start_time"]:
        r.fail(t, "end_time", "trigger.end_time", "is not after start_time")
    return TimeWindow(tz, name, times["start_time"], times["end_time"])


def _recurrence(r: _Reader, t: dict, window: TimeWindow) -> RecurrenceTrigger:
    frequency = str(t.get("frequency", "")).lower()
    if frequency not in FREQUENCIES:
        r.fail(
            t,
            "frequency",
            "trigger.frequency",
            f"unknown frequency {t.get('frequency')!r}",
            f"use one of {', '.join(FREQUENCIES)}",
        )
    interval = t.get("interval")
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        r.fail(t, "interval", "trigger.interval", "must be a whole number >= 1")
    s = r.mapping(t, "schedule", "trigger.schedule", required=False)
    r.known(s, ("hours", "minutes", "week_days", "month_days"), "trigger.schedule.")
    days = []
    for day in _list(s.get("week_days")):
        if str(day).lower() not in WEEK_DAYS:
            r.fail(
                s,
                "week_days",
                "trigger.schedule.week_days",
                f"unknown day {day!r}",
                f"use {', '.join(WEEK_DAYS)}",
            )
        days.append(WEEK_DAYS.index(str(day).lower()))
    return RecurrenceTrigger(
        frequency,
        interval,
        window,
        hours=_ints(r, s, "hours", 0, 23),
        minutes=_ints(r, s, "minutes", 0, 59),
        week_days=tuple(days),
        month_days=_ints(r, s, "month_days", 1, 31),
    )


def _list(value: Any) -> list:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _ints(r: _Reader, s: dict, key: str, low: int, high: int) -> tuple[int, ...]:
    values = _list(s.get(key))
    if any(isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high for v in values):
        r.fail(s, key, f"trigger.schedule.{key}", f"must be whole numbers from {low} to {high}")
    return tuple(sorted(set(values)))


def _data(r: _Reader, t: dict) -> DataTrigger:
    path = t.get("path")
    if not isinstance(path, str) or not path.strip():
        r.fail(t, "path", "trigger.path", "is missing", "write the folder, file or URL to watch")
    if "://" not in path:
        path = str((r.file.parent / path).resolve())
    raw = t.get("polling_interval", 5)
    match = _DURATION.match(str(raw)) if not isinstance(raw, bool) else None
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
    if seconds < 1:  # a firing is named by its second: two in one second would be one
        r.fail(
            t,
            "polling_interval",
            "trigger.polling_interval",
            f"{raw!r} is not a duration of 1 second or more",
            "write minutes (5, as Azure ML v1) or seconds/minutes/hours: 30s, 5m, 1h",
        )
    return DataTrigger(path, seconds)


JOB_KEYS = (
    "type",
    "job",
    "inputs",
    "settings",
    "tags",
    "experiment_name",
    "display_name",
    "description",
)


def _job(r: _Reader, doc: dict) -> Job:
    spec = doc.get("create_job")
    if isinstance(spec, str):
        spec = {"type": "pipeline", "job": spec}
    if not isinstance(spec, dict):
        r.fail(
            doc,
            "create_job",
            "create_job",
            "is missing",
            "write create_job: ./pipeline.yml or a mapping with 'job:'",
        )
    if "outputs" in spec:
        r.fail(
            spec,
            "outputs",
            "create_job.outputs",
            "is not supported by amlrun schedules",
            "a scheduled run's outputs stay in the store: amlrun runs outputs RUN STEP -o DIR",
        )
    r.known(spec, JOB_KEYS, "create_job.")
    if str(spec.get("type", "pipeline")) != "pipeline":
        r.fail(
            spec,
            "type",
            "create_job.type",
            "amlrun schedules start pipeline jobs only",
            "write type: pipeline",
        )
    target, published = _job_target(r, spec)
    return Job(
        pipeline=target,
        published=published,
        inputs=_inputs(r, r.mapping(spec, "inputs", "create_job.inputs", required=False)),
        settings=dict(r.mapping(spec, "settings", "create_job.settings", required=False)),
        tags=dict(r.mapping(spec, "tags", "create_job.tags", required=False)),
    )


def _inputs(r: _Reader, inputs: dict) -> dict[str, Any]:
    """The job's inputs; a local data ``path:`` is relative to the schedule file, as Azure
    ML reads it, so the run finds it from any folder."""
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        path = value.get("path") if isinstance(value, dict) else None
        if isinstance(path, str) and "://" not in path and not path.startswith("azureml:"):
            value = {**value, "path": str((r.file.parent / path).resolve())}
        out[name] = value
    return out


def _job_target(r: _Reader, spec: dict) -> tuple[str, bool]:
    """(absolute pipeline file, False) or (``azureml:NAME[:VERSION]``, True)."""
    target = spec.get("job")
    if not isinstance(target, str) or not target.strip():
        r.fail(
            spec,
            "job",
            "create_job.job",
            "is missing",
            "write job: ./pipeline.yml or job: azureml:NAME[:VERSION]",
        )
    if target.startswith("azureml:"):
        if not target.removeprefix("azureml:").partition(":")[0]:
            r.fail(
                spec,
                "job",
                "create_job.job",
                f"{target!r} names no pipeline",
                "write job: azureml:NAME or azureml:NAME:VERSION (amlrun pipeline publish)",
            )
        return target, True
    resolved = (r.file.parent / target.removeprefix("file:")).resolve()  # file: as in 2022
    if not resolved.is_file():
        r.fail(
            spec,
            "job",
            "create_job.job",
            f"pipeline file {resolved} not found",
            "point job: at a pipeline YAML relative to the schedule file",
        )
    return str(resolved), False


def _now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
