"""Early termination of sweep trials: Azure ML's bandit, median stopping and truncation.

A running trial's intermediate metric (logged with ``step=``) is compared, at each
evaluation step, with the trials that already finished. Comparing only with finished trials
makes the decision a function of the seed and the results, as the proposals are, so a
rerun stops the same trials at the same steps.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from amlrun.pipelines.sweep import Policy

History = Mapping[int, float]  # step -> value (the last one logged at that step)


def evaluated(policy: Policy, step: int) -> bool:
    """Whether the policy looks at metrics logged at ``step``."""
    interval = max(int(policy.evaluation_interval), 1)
    return step >= policy.delay_evaluation and (step - policy.delay_evaluation) % interval == 0


def should_stop(
    policy: Policy, maximize: bool, running: History, finished: Sequence[History]
) -> int | None:
    """The first evaluation step at which ``running`` falls behind, or None."""
    for step in sorted(running):
        if evaluated(policy, step) and _behind(policy, maximize, running, step, finished):
            return step
    return None


def _behind(
    policy: Policy, maximize: bool, running: History, step: int, finished: Sequence[History]
) -> bool:
    value = running[step]
    sign = 1.0 if maximize else -1.0  # compare as "higher is better"
    peers = [h[step] for h in finished if step in h]
    if not peers:
        return False
    if policy.type == "bandit":
        best = max(peers) if maximize else min(peers)
        if policy.slack_amount is not None:
            bound = best - sign * policy.slack_amount
        else:
            factor = 1 + float(policy.slack_factor or 0)
            bound = best / factor if maximize else best * factor
        return sign * value < sign * bound
    if policy.type == "median_stopping":
        upto = [[v for s, v in h.items() if s <= step] for h in finished]
        averages = [statistics.fmean(values) for values in upto if values]
        own = [v for s, v in running.items() if s <= step]
        best_so_far = max(own) if maximize else min(own)
        return sign * best_so_far < sign * statistics.median(averages)
    everyone = sorted([*peers, value], key=lambda v: sign * v)  # worst first
    cut = math.floor(len(everyone) * policy.truncation_percentage / 100)
    return cut > 0 and sign * value <= sign * everyone[cut - 1]
