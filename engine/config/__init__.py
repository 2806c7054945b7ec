"""The run's settings: the run config, the sweep spec and its grid, config files, where things live."""
