"""Run history: every collected report as a row with flat metrics and non-passing tests."""

# Here, not in trends.py, so the command-line help can name the specs without importing the store.
BASELINE_HELP = "previous | branch:NAME | tag:NAME | sha:PREFIX | run:KEY | report:PATH | git:REF"
