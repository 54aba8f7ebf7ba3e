"""The command layer's own errors; the CLI maps each error type to its documented exit code."""


class UsageError(Exception):
    """The command line asks for something impossible (exit 2)."""


class InputError(Exception):
    """A report or history the command needs cannot be read; one line, names the file (exit 3)."""


def one_line(text: str) -> str:
    """`text` with what is not printable shown escaped: a newline or a terminal escape in a file name can
    neither start a second line (on GitHub, a workflow command such as `::error`) nor recolour the
    terminal. For every line healthdeck prints that holds a path or a message from an artifact."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
