"""The REST API and web UI of ``amlrun serve``."""
