"""The `healthdeck` console script (and `python -m healthdeck.reports`): settings that belong to the process,
made before the CLI is imported.

- The garbage collector is paused first. The CLI's imports are most of what a light command costs, and
  the collector's passes over everything they create find nothing to free; the commands that build large
  structures (collect, import, …) get it back before they start.
- argparse asks gettext for each of its own strings; with no catalog for them (Python ships none) every
  ask still searches the locale folders, and the first imports `locale`. The strings stay as written.

Together about a tenth of `gate`'s start (docs/benchmarks.md). `cli.main` stays importable and callable
without either, as the tests call it.
"""

from __future__ import annotations

import gc
import sys


def entry() -> int:
    gc.disable()
    import argparse

    argparse._ = str  # type: ignore[attr-defined]  # the identity: see the module's docstring
    from .cli import LIGHT, command_word
    from .cli import entry as run

    if command_word(sys.argv[1:]) not in LIGHT:
        gc.enable()
    return run()


if __name__ == "__main__":
    sys.exit(entry())
