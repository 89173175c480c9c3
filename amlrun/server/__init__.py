"""``amlrun serve``: published pipelines as a REST API, runs from a persisted queue.

Layered above the engine (workers run pipelines with it) and below cli/. FastAPI is imported
only by the modules that build the app, so tokens and the queue work without it.
"""
