"""Schedules: run a pipeline on a cron or recurrence trigger, or when data changes.

The v2 schedule YAML (``az ml schedule create -f``) is parsed into frozen values
(:mod:`.model`), its ticks are computed in the schedule's own time zone (:mod:`.ticks`), and a
small :class:`~amlrun.schedules.scheduler.Scheduler` with an injectable clock and launcher
fires them, recording every firing in ``.amlrun/schedules.sqlite`` (:mod:`.book`) so that a
restart never fires a tick twice.
"""
