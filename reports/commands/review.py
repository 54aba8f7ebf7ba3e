"""`healthdeck review`: the release review of a candidate run against a baseline run, as Markdown (the
same text as the dashboard's Release review page offers for download)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_config
from ..errors import InputError, UsageError
from ..output import write_atomic
from ..reading import open_reading


def run(args: argparse.Namespace) -> int:
    from ..history.baselines import FILE_KINDS, find_baseline
    from ..review import default_baseline, review

    local = load_config(args.config)
    reading = open_reading(args, local)
    try:
        store, candidate = reading.store, reading.run
        if store is None or candidate is None:
            where = reading.path or "the report"
            raise InputError(
                f"{where}: its run is not in the history store; a review compares two stored runs"
            )
        if args.baseline:
            if args.baseline.partition(":")[0] in FILE_KINDS:
                raise UsageError(
                    f"--baseline {args.baseline}: a review compares two runs of the history store"
                )
            found = find_baseline(store, args.baseline, candidate)
            baseline = found.run if found is not None else None
            if baseline is None:
                raise InputError(f"--baseline {args.baseline}: no such run in the history store")
        else:
            baseline = default_baseline(store, candidate)  # None: the candidate alone, said in the text
        text = review(store, candidate, baseline, reading.config).markdown
    finally:
        reading.close()
    if args.output:
        write_atomic({Path(args.output): text})
    else:
        sys.stdout.write(text)
    return 0
