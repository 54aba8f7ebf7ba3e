"""`healthdeck guardian-delta`: the permissive-versus-strict delta alone, for the nightly rehearsal comment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from healthdeck.collectors.base import input_limits

from ..config import load_config
from ..errors import UsageError
from ..guardian.delta import build_guardian
from ..output import json_text, write_atomic
from ..render.guardian import render_rehearsal_markdown
from .collect import guardian_inputs


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # first: a bad config fails before the logs are read
    # the logs are read under the same limits as `collect` reads them
    with input_limits(config.input_limits):
        inputs = guardian_inputs(args)
    if inputs is None:  # unreachable: the parser requires both runs
        raise UsageError("guardian-delta needs --permissive and --strict")
    summary, details = build_guardian(inputs, config.guardian_rows_listed)
    if args.format == "json":
        text = json_text({"summary": summary, "details": details})
    else:
        text = render_rehearsal_markdown(summary, details)
    if args.output:
        write_atomic({Path(args.output): text})
    else:
        sys.stdout.write(text)
    return 0
