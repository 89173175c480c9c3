"""Testing pipelines with pytest: the ``amlrun_run`` fixture (see :mod:`.pytest_plugin`)."""
