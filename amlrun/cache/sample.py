"""Which blobs a sampled ``verify`` re-hashes.

Re-hashing a remote store reads every byte of it over the network; a nightly job that
re-hashes a random few percent finds a store that rots (or was tampered with) within days
at a fraction of the cost. The pick is seeded so a test, or a second look at a report, sees
the same blobs again.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    fraction: float = 1.0  # 0 < fraction <= 1
    seed: int | None = None

    def pick(self, names: Iterable[str]) -> set[str]:
        """The names to re-hash: each one with probability ``fraction``, the same for a seed."""
        names = sorted(names)
        if self.fraction >= 1.0:
            return set(names)
        rng = random.Random(self.seed)
        return {n for n in names if rng.random() < self.fraction}
