"""The command layer's own errors; the CLI maps each error type to its documented exit code."""


class UsageError(Exception):
    """The command line asks for something impossible (exit 2)."""


class InputError(Exception):
    """A report or history the command needs cannot be read; one line, names the file (exit 3)."""
