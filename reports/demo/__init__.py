"""The demo: a sample history built by really running the CLI, and the Guardian traffic it replays."""
