"""Work over stored runs: record, update, rerun, sweep, audit, first-use audit, daily operation."""
