"""Run history: every collected report as a row with flat metrics and non-passing tests."""
