"""Parallel (mini-batch) steps: v2 ``type: parallel``, v1 ``jobType: parallel`` modules and
v1 ParallelRunStep, run locally with one store entry per mini-batch (docs/parallel.md)."""
