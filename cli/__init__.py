"""The `talentmatch` command: it sits above every layer, benchmarks included."""
