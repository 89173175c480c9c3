"""amlrun's version, in a module of its own so that inner packages need not import the
top ``amlrun`` package to read it."""

from __future__ import annotations

__version__ = "0.1.0"
