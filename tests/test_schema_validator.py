"""healthdeck's own schema validator (reports/schema.py) against jsonschema, the reference: the same
verdict on real reports and on broken copies of them, pointing at a place jsonschema points at too."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import jsonschema
import pytest

from healthdeck.reports.cli import EXIT_OK, main
from healthdeck.reports.schema import SchemaError, report_schema, schema_error
from tests.conftest import FIXTURES, REAL

SAMPLES = Path(__file__).resolve().parents[1] / "reports" / "samples"
WRONG = [None, "x", -1, 1.5, True, [], {}, [1], {"zz": 1}, 10**9, "", "GO"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[dict]:
    """The golden report, and two collected runs with Guardian, OpenAPI, triage against a baseline."""
    out = tmp_path_factory.mktemp("schema")
    g, d = SAMPLES / "guardian", SAMPLES / "dateutil"
    common = ["collect", "-q", "--out", str(out), "--config", str(d / "pyproject.toml"),
              "--coverage", str(d / "coverage.xml.gz"), "--ruff", str(d / "ruff.json.gz"),
              "--compileall", str(d / "compileall.txt"), "--openapi-report", str(SAMPLES / "openapi" / "openapi-diff.txt"),
              "--guardian-permissive", str(g / "permissive.jsonl.gz"), "--guardian-strict", str(g / "strict.jsonl.gz"),
              "--rehearsal-permissive", str(g / "smoke-permissive.xml"), "--rehearsal-strict", str(g / "smoke-strict.xml")]  # fmt: skip
    collected = []
    for junit in (d / "smoke.junit.xml.gz", REAL / "dateutil.junit-reruns.xml.gz"):
        assert (
            main([*common, "--junit", f"smoke={junit}", "--junit", f"unit={d / 'unit.junit.xml.gz'}"])
            == EXIT_OK
        )
        collected.append(json.loads((out / "latest.json").read_text()))
    assert collected[1]["details"]["tests"]["smoke"]["transitions"]  # compared with the first run
    assert collected[1]["summary"]["guardian"]
    return [json.loads((FIXTURES / "golden" / "full.json").read_text()), *collected]


def _reference_paths(report: dict) -> set[str]:
    """Every place jsonschema finds wrong, including inside oneOf branches."""
    found, todo = set(), list(jsonschema.Draft202012Validator(report_schema()).iter_errors(report))
    while todo:
        error = todo.pop()
        found.add(".".join(str(p) for p in error.absolute_path) or "the top level")
        todo.extend(error.context or ())
    return found


def _nodes(value: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out += _nodes(child, (*path, key))
    return out


def _mutate(report: dict, path: tuple, rng: random.Random) -> dict:
    broken = copy.deepcopy(report)
    parent = broken
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    choice = rng.randrange(3)
    if choice == 0 and isinstance(parent, dict):
        del parent[last]
    elif choice == 1 and isinstance(parent[last], dict):
        parent[last]["unexpected_key"] = 1
    else:
        parent[last] = rng.choice(WRONG)
    return broken


def test_the_shipped_schema_is_valid_and_uses_only_known_keywords(reports) -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())
    for report in reports:
        assert schema_error(report) is None
    with pytest.raises(SchemaError, match="uniqueItems"):
        schema_error({"a": []}, {"properties": {"a": {"uniqueItems": True}}})


def test_same_verdicts_as_jsonschema_on_broken_reports(reports) -> None:
    rng = random.Random(20261125)
    reference = jsonschema.Draft202012Validator(report_schema())
    invalid = 0
    for report in reports:
        nodes = [p for p in _nodes(report) if p]
        for path in rng.sample(nodes, min(200, len(nodes))):
            broken = _mutate(report, path, rng)
            ours = schema_error(broken)
            assert (ours is None) == reference.is_valid(broken), (path, ours)
            if ours is not None:
                invalid += 1
                where = ours.split(": ", 1)[0]
                assert where in _reference_paths(broken), (path, ours)
    assert invalid > 100  # the mutations really broke reports (many nodes, e.g. ruff findings, are free text)


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"type": "integer"}, 1.0, True),  # draft 2020-12: a number with no fraction is an integer
        ({"type": "integer"}, True, False),  # a boolean is not a number
        ({"type": "number"}, False, False),
        ({"enum": [1, None]}, True, False),
        ({"enum": [1, None]}, 1.0, True),
        ({"const": True}, 1, False),
        ({"pattern": "^1\\.[0-9]+$"}, "1.5", True),
        ({"pattern": "^1\\.[0-9]+$"}, "2.0", False),
        ({"pattern": "^a"}, 3, True),  # applies to strings only
        ({"minItems": 1, "maxItems": 2}, [1, 2, 3], False),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, False),
        ({"dependentRequired": {"a": ["b"]}}, {"b": 1}, True),
        ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, 1, False),  # both match: not exactly one
        ({"additionalProperties": {"type": "string"}, "properties": {"n": {}}}, {"n": 1, "s": 2}, False),
    ],
)
def test_keyword_edges_agree_with_jsonschema(schema, value, valid) -> None:
    assert jsonschema.Draft202012Validator(schema).is_valid(value) is valid
    assert (schema_error(value, schema) is None) is valid
