"""amlrun's docker backend: each step runs in a fresh container on a local Docker engine.

Environments resolve to image IDs (built once from a conda file or build context when
needed), so the step key changes when an image does, not when it is merely renamed.
"""

from __future__ import annotations

from amlrun_docker.backend import DockerBackend

__all__ = ["DockerBackend"]
