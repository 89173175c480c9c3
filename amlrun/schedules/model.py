"""A schedule as frozen values: what fires it (a trigger) and what it starts (a job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal

CatchUp = Literal["none", "latest", "all"]
CATCH_UP: tuple[str, ...] = ("none", "latest", "all")
FREQUENCIES: tuple[str, ...] = ("minute", "hour", "day", "week", "month")


@dataclass(frozen=True)
class TimeWindow:
    """When ticks may fall: from ``start`` (aware) until ``end`` (aware, or open)."""

    zone: tzinfo
    zone_name: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class CronTrigger:
    expression: str
    window: TimeWindow
    type: Literal["cron"] = "cron"


@dataclass(frozen=True)
class RecurrenceTrigger:
    frequency: str
    interval: int
    window: TimeWindow
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    week_days: tuple[int, ...] = ()  # 0 = Monday, as dateutil counts
    month_days: tuple[int, ...] = ()
    type: Literal["recurrence"] = "recurrence"


@dataclass(frozen=True)
class DataTrigger:
    """Fires when the content under ``path`` (a folder, file or fsspec URL) changes."""

    path: str
    polling_interval_s: float
    type: Literal["data"] = "data"


Trigger = CronTrigger | RecurrenceTrigger | DataTrigger


@dataclass(frozen=True)
class Job:
    """What a firing starts: a pipeline file, or a published pipeline ``azureml:NAME[:V]``."""

    pipeline: str  # an absolute file path, or the published reference as written
    published: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    name: str
    trigger: Trigger
    job: Job
    catch_up: CatchUp = "none"
    display_name: str = ""
    description: str = ""
