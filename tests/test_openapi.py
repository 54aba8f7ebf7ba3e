"""OpenAPI changes: the built-in diff against the real npm openapi-diff, hand-made pairs, the report readers."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from healthdeck.collectors.openapi import collect_openapi, collect_openapi_report
from healthdeck.reports.cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "openapi"
SAMPLES = REPO / "reports" / "samples" / "openapi"
OPENAPI_DIFF = REPO / ".ci-tools" / "node_modules" / ".bin" / "openapi-diff"


def _fastapi_spec(version: str, openapi_version: str) -> dict:
    """FastAPI's own spec of one version of the fixture app."""
    spec = importlib.util.spec_from_file_location(f"fixture_app_{version}", FIXTURES / f"app_{version}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.app.openapi_version = openapi_version
    return module.app.openapi()


def _write(folder: Path, name: str, document: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(document, indent=1) if name.endswith(".json") else yaml.safe_dump(document))
    return path


def _openapi_diff(base: Path, head: Path, out: Path) -> Path:
    """Run the real npm openapi-diff (installed by .ci/run); CI must have it, elsewhere the test skips."""
    if not OPENAPI_DIFF.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{OPENAPI_DIFF} is missing: .ci/run installs it (npm install --prefix .ci-tools)")
        pytest.skip("npm openapi-diff is not installed (npm install --prefix .ci-tools openapi-diff)")
    done = subprocess.run(
        [str(OPENAPI_DIFF), str(base), str(head)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr  # 1 = breaking changes found
    out.write_text(done.stdout)
    return out


def _keys(changes, breaking: bool = True) -> set[tuple[str | None, str]]:
    """(method, path template) of the changes; parameter names in templates are irrelevant."""
    return {(c.method, re.sub(r"\{[^}]*\}", "{}", c.path or "")) for c in changes if c.breaking == breaking}


def _covered(theirs, ours) -> list:
    """openapi-diff breaking differences with no breaking built-in change on the same operation."""
    mine = _keys(ours)
    paths = {p for _, p in mine}
    return [c for c in theirs if c.breaking and not (
        (c.method, re.sub(r"\{[^}]*\}", "{}", c.path or "")) in mine
        or (c.method is None and re.sub(r"\{[^}]*\}", "{}", c.path or "") in paths))]  # fmt: skip


@pytest.mark.parametrize("openapi_version", ["3.0.3", "3.1.0"])
def test_fastapi_versions_classified(tmp_path, openapi_version) -> None:
    base = _write(tmp_path, "v1.json", _fastapi_spec("v1", openapi_version))
    head = _write(tmp_path, "v2.json", _fastapi_spec("v2", openapi_version))
    result = collect_openapi(base, head)
    found = {(c.rule, c.method, c.path) for c in result.changes if c.breaking}
    assert found == {
        ("api-removed-without-deprecation", "DELETE", "/users/{user_id}"),
        ("new-required-request-parameter", "GET", "/users"),
        ("request-property-became-required", "POST", "/users"),
        ("request-property-enum-value-removed", "POST", "/users"),
        ("request-parameter-type-changed", "GET", "/items/{item_id}"),
        ("response-property-type-changed", "GET", "/items/{item_id}"),
        ("response-required-property-removed", "GET", "/users"),
        ("response-required-property-removed", "POST", "/users"),
        ("response-required-property-removed", "GET", "/users/{user_id}"),
    }
    assert {(c.rule, c.method, c.path) for c in result.changes if not c.breaking} == {
        ("endpoint-added", "GET", "/health"),
        ("new-optional-request-parameter", "GET", "/users/{user_id}"),
    }
    assert (result.breaking, result.non_breaking) == (9, 2)


def test_builtin_finds_every_breaking_change_the_real_openapi_diff_finds(tmp_path) -> None:
    base = _write(tmp_path, "v1.json", _fastapi_spec("v1", "3.0.3"))  # openapi-diff reads 3.0 only
    head = _write(tmp_path, "v2.json", _fastapi_spec("v2", "3.0.3"))
    theirs = collect_openapi_report(_openapi_diff(base, head, tmp_path / "openapi-diff.txt"))
    raw = json.loads((tmp_path / "openapi-diff.txt").read_text().partition("\n")[2])
    assert (theirs.breaking, theirs.non_breaking) == (
        len(raw["breakingDifferences"]),
        len(raw["nonBreakingDifferences"]) + len(raw["unclassifiedDifferences"]),
    )  # its own counts, read back
    ours = collect_openapi(base, head)
    assert _covered(theirs.changes, ours.changes) == []
    # What the built-in diff finds and openapi-diff does not see at all: the new required query
    # parameter and the path parameter type change.
    missed = _keys(ours.changes) - _keys(theirs.changes)
    assert missed == {("GET", "/items/{}"), ("GET", "/users")} - _keys(theirs.changes)
    assert ("GET", "/users") in _keys(theirs.changes)  # it did flag GET /users, for the response only
    assert not any(
        "parameter" in c.location or c.rule.startswith("path") for c in theirs.changes if c.breaking
    )
    assert {c.rule for c in ours.changes if c.method == "GET" and c.path == "/users" and c.breaking} == {
        "new-required-request-parameter",
        "response-required-property-removed",
    }
    # the committed sample is this very output
    sample = collect_openapi_report(SAMPLES / "openapi-diff.txt")
    assert (sample.breaking, sample.non_breaking) == (theirs.breaking, theirs.non_breaking)


def _shop() -> dict:
    return yaml.safe_load((FIXTURES / "shop.yaml").read_text())


def _removed_operation(spec: dict) -> None:
    del spec["paths"]["/orders/{orderId}"]["delete"]


def _new_required_query(spec: dict) -> None:
    spec["paths"]["/orders"]["get"]["parameters"].append(
        {"name": "customer", "in": "query", "required": True, "schema": {"type": "string"}}
    )


def _property_made_required(spec: dict) -> None:
    spec["components"]["schemas"]["NewOrder"]["required"] = ["item", "note"]


def _path_param_type(spec: dict) -> None:
    spec["paths"]["/orders/{orderId}"]["parameters"][0]["schema"] = {"type": "string"}


def _media_types_swapped(spec: dict) -> None:
    post = spec["paths"]["/orders"]["post"]["requestBody"]["content"]
    post["application/xml"] = post.pop("application/json")
    one = spec["paths"]["/orders/{orderId}"]["get"]["responses"]["200"]["content"]
    one["application/xml"] = one.pop("application/json")


def _path_added(spec: dict) -> None:
    spec["paths"]["/health"] = {"get": {"responses": {"200": {"description": "alive"}}}}


HAND_MADE = {
    "removed operation": (
        _removed_operation,
        {("api-removed-without-deprecation", "DELETE", "/orders/{orderId}")},
        True,
    ),
    "new required query parameter": (
        _new_required_query,
        {("new-required-request-parameter", "GET", "/orders")},
        False,
    ),
    "request property made required": (
        _property_made_required,
        {("request-property-became-required", "POST", "/orders")},
        True,
    ),
    "path parameter type changed": (
        _path_param_type,
        {
            ("request-parameter-type-changed", "GET", "/orders/{orderId}"),
            ("request-parameter-type-changed", "DELETE", "/orders/{orderId}"),
        },
        False,
    ),
    "media types swapped": (
        _media_types_swapped,
        {
            ("request-body-media-type-removed", "POST", "/orders"),
            ("response-media-type-removed", "GET", "/orders/{orderId}"),
        },
        True,
    ),
    "path added": (_path_added, set(), False),
}  # fmt: skip  (edit, breaking changes expected, whether openapi-diff sees it as breaking too)


@pytest.mark.parametrize("case", list(HAND_MADE))
def test_hand_made_pairs(tmp_path, case) -> None:
    edit, expected, they_see_it = HAND_MADE[case]
    head_doc = copy.deepcopy(_shop())
    edit(head_doc)
    base = _write(tmp_path, "base.yaml", _shop())
    head = _write(tmp_path, "head.yaml", head_doc)
    ours = collect_openapi(base, head)
    assert {(c.rule, c.method, c.path) for c in ours.changes if c.breaking} == expected
    if case == "path added":
        assert [(c.rule, c.level, c.method, c.path) for c in ours.changes] == [
            ("endpoint-added", "info", "GET", "/health")
        ]
    if case == "media types swapped":
        assert sorted((c.rule, c.location, c.message) for c in ours.changes) == [
            ("request-body-media-type-added", "requestBody.application/xml",
             "added the media type application/xml to the request body"),
            ("request-body-media-type-removed", "requestBody.application/json",
             "removed the media type application/json from the request body"),
            ("response-media-type-added", "responses.200.application/xml",
             "added the media type application/xml for the response with the status 200"),
            ("response-media-type-removed", "responses.200.application/json",
             "removed the media type application/json for the response with the status 200"),
        ]  # fmt: skip
    theirs = collect_openapi_report(_openapi_diff(base, head, tmp_path / "openapi-diff.txt"))
    assert _covered(theirs.changes, ours.changes) == []
    assert (theirs.breaking > 0) == they_see_it  # what openapi-diff misses, the built-in diff finds


def _with_formats(spec: dict, request: dict, response: dict, limit: str) -> dict:
    """The shop with a `placed` property of the given schema in the request and the response bodies, and
    the `limit` query parameter of the given integer format."""
    spec = copy.deepcopy(spec)
    spec["components"]["schemas"]["NewOrder"]["properties"]["placed"] = request
    spec["components"]["schemas"]["Order"]["properties"]["placed"] = response
    spec["components"]["parameters"]["Limit"]["schema"]["format"] = limit
    return spec


DATE, DATE_TIME = {"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}
FORMAT_CASES = {
    # a wider format in a request, a narrower one in a response: every value that was valid still is
    "widened": (
        (DATE, DATE_TIME, "int32"),
        (DATE_TIME, DATE, "int64"),
        set(),
        {"request-property-type-generalized", "request-parameter-type-generalized"},
    ),
    "narrowed": (
        (DATE_TIME, DATE, "int64"),
        (DATE, DATE_TIME, "int32"),
        {"request-property-type-changed", "request-parameter-type-changed", "response-property-type-changed"},
        set(),
    ),
    # OpenAPI 3.0's `nullable` beside the format: the format change must still be seen
    "narrowed, nullable": (
        ({**DATE_TIME, "nullable": True}, DATE, "int64"),
        ({**DATE, "nullable": True}, DATE, "int64"),
        {"request-property-type-changed"},
        set(),
    ),
    # nullability alone: oasdiff's own ids, not a type change
    "null dropped in a request, allowed in a response": (
        ({**DATE, "nullable": True}, DATE, "int64"),
        (DATE, {**DATE, "nullable": True}, "int64"),
        {"request-property-became-not-nullable", "response-property-became-nullable"},
        set(),
    ),
}  # fmt: skip  (base, head, breaking rules, non-breaking rules; oasdiff's isFormatContained)


@pytest.mark.parametrize("case", list(FORMAT_CASES))
def test_format_changes_follow_oasdiffs_lattice(tmp_path, case) -> None:
    before, after, breaking, non_breaking = FORMAT_CASES[case]
    base = _write(tmp_path, "base.json", _with_formats(_shop(), *before))
    head = _write(tmp_path, "head.json", _with_formats(_shop(), *after))
    changes = collect_openapi(base, head).changes
    assert {c.rule for c in changes if c.breaking} == breaking
    assert {c.rule for c in changes if not c.breaking} == non_breaking


def test_refs_in_other_files_swagger2_and_31(tmp_path) -> None:
    (tmp_path / "schemas.yaml").write_text(
        "Pet:\n  type: object\n  required: [id]\n  properties:\n    id: {type: integer}\n"
    )
    spec = {"openapi": "3.1.0", "info": {"title": "pets", "version": "1"}, "paths": {"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "schemas.yaml#/Pet"}}}},
        "responses": {"200": {"description": "ok"}}}}}}  # fmt: skip
    base = _write(tmp_path, "base.json", spec)
    head_dir = tmp_path / "head"
    head_dir.mkdir()
    (head_dir / "schemas.yaml").write_text(
        "Pet:\n  type: object\n  required: [id]\n  properties:\n    id: {type: [string, 'null']}\n"
    )
    head = _write(head_dir, "head.json", spec)
    [change] = collect_openapi(base, head).changes
    assert (change.rule, change.location) == (
        "request-property-type-changed",
        "requestBody.application/json.id",
    )
    swagger = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "parameters": [{"name": "q", "in": "query", "type": "string", "required": False}],
        "responses": {"200": {"description": "ok", "schema": {"type": "object", "properties": {"x": {"type": "string"}},
                                                                "required": ["x"]}}}}}}}  # fmt: skip
    head2 = copy.deepcopy(swagger)
    head2["paths"]["/a"]["get"]["parameters"][0]["required"] = True
    del head2["paths"]["/a"]["get"]["responses"]["200"]["schema"]["properties"]["x"]
    rules = {
        c.rule
        for c in collect_openapi(
            _write(tmp_path, "s1.json", swagger), _write(tmp_path, "s2.json", head2)
        ).changes
    }
    assert rules == {"request-parameter-became-required", "response-required-property-removed"}


def test_security_added_where_there_was_none_is_breaking(tmp_path) -> None:
    base = _shop()
    head = copy.deepcopy(base)
    head["components"]["securitySchemes"] = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
    head["security"] = [{"key": []}]
    changes = collect_openapi(_write(tmp_path, "a.yaml", base), _write(tmp_path, "b.yaml", head)).changes
    assert {c.rule for c in changes} == {"api-security-added"} and all(c.breaking for c in changes)
    alternative = copy.deepcopy(head)
    alternative["security"] = [{"key": []}, {}]  # anonymous still allowed: an alternative, not breaking
    changes = collect_openapi(
        _write(tmp_path, "a.yaml", base), _write(tmp_path, "c.yaml", alternative)
    ).changes
    assert changes and not any(c.breaking for c in changes)


def test_oasdiff_report(write) -> None:
    # The shape oasdiff documents for `oasdiff breaking --format json` (docs/FINGERPRINT.md, SOURCE-LOCATOR.md);
    # oasdiff itself (Go) cannot be installed from the registries reachable here.
    report = write("oasdiff.json", json.dumps([
        {"id": "response-success-status-removed", "text": "removed the success response with status '200'",
         "level": 3, "operation": "GET", "path": "/users/{id}", "section": "paths", "fingerprint": "a3f8c21b9d04"},
        {"id": "request-parameter-removed", "text": "deleted the 'query' request parameter 'q'", "level": 2,
         "operation": "GET", "path": "/users", "section": "paths"},
    ]))  # fmt: skip
    result = collect_openapi_report(report)
    assert (result.source, result.breaking, result.non_breaking) == ("oasdiff", 1, 1)
    assert result.changes[0].rule == "response-success-status-removed" and result.changes[0].method == "GET"
    assert collect_openapi_report(write("empty.json", "[]")).changes == ()


def test_no_changes_header_alone(write) -> None:
    result = collect_openapi_report(write("same.txt", "No changes found between the two specifications\n"))
    assert (result.source, result.breaking, result.non_breaking) == ("openapi-diff", 0, 0)


@pytest.mark.parametrize(
    "name, content, flag",
    [
        ("junit.xml", '<?xml version="1.0"?><testsuite tests="0"/>', "--openapi"),
        ("package.json", '{"name": "x", "version": "1.0.0"}', "--openapi"),
        ("broken.yaml", "openapi: 3.0.3\npaths: [not, a, map]\n", "--openapi"),
        ("future.json", '{"openapi": "4.0.0", "info": {}, "paths": {}}', "--openapi"),
        ("other.json", '{"results": []}', "--openapi-report"),
        ("log.txt", "Breaking changes found between the two specifications:\nnot json", "--openapi-report"),
    ],
)
def test_not_openapi_is_exit_3_one_line(tmp_path, write, capsys, name, content, flag) -> None:
    bad = write(name, content)
    args = [flag, str(bad), str(FIXTURES / "shop.yaml")] if flag == "--openapi" else [flag, str(bad)]
    assert main(["collect", "--out", str(tmp_path / "out"), "--no-history", *args]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(
    "content, where",
    [
        ('{"swagger": "2.0"}', "(at the top level)"),
        ('{"openapi": "3.0.3", "info": {"title": "x"}, "paths": {}}', "(at #/info)"),
        ('{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {"/a/{b}": {"get": '
         '{"responses": "x"}}}}', "(at #/paths/~1a~1{b}/get/responses)"),
    ],
)  # fmt: skip
def test_invalid_spec_names_the_place_as_a_json_pointer(tmp_path, write, capsys, content, where) -> None:
    bad = write("spec.json", content)
    assert (
        main(["collect", "--out", str(tmp_path / "out"), "--no-history", "--openapi", str(bad), str(bad)])
        == 3
    )
    assert capsys.readouterr().err.rstrip().endswith(where)


def test_missing_extra_is_a_clear_usage_error(tmp_path, monkeypatch, capsys) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "openapi_spec_validator", None)  # as if not installed
    spec = str(FIXTURES / "shop.yaml")
    assert main(["collect", "--out", str(tmp_path), "--no-history", "--openapi", spec, spec]) == EXIT_USAGE
    [line] = capsys.readouterr().err.splitlines()
    assert (
        "needs the [openapi] extra: pip install " in line and "[openapi]" in line.split("pip install", 1)[1]
    )


@pytest.mark.parametrize(
    ("origin", "line"),
    [
        (None, "pip install 'healthdeck[openapi]'"),
        ({"url": "file:///ci/dist/healthdeck-0.1.0-py3-none-any.whl", "archive_info": {}},
         "pip install '/ci/dist/healthdeck-0.1.0-py3-none-any.whl[openapi]'"),
        ({"url": "file:///src/health%20deck", "dir_info": {"editable": True}}, "pip install -e '/src/health deck[openapi]'"),
        ({"url": "https://github.com/o/healthdeck", "vcs_info": {"vcs": "git", "commit_id": "ab12"}},
         "pip install 'healthdeck[openapi] @ git+https://github.com/o/healthdeck@ab12'"),
    ],
)  # fmt: skip
def test_the_missing_extra_line_installs_from_where_healthdeck_came_from(monkeypatch, origin, line) -> None:
    """healthdeck may not be on the user's index (or another project may hold the name there): the line
    adds the extra to the wheel, checkout or git URL this install came from (its direct_url.json)."""
    import importlib.metadata
    import json

    from healthdeck.reports.commands import install_line

    class Dist:
        def read_text(self, name: str) -> str | None:
            return None if origin is None else json.dumps(origin)

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Dist())
    assert install_line("openapi") == line


def test_report_markdown_and_comment_name_the_breaking_changes(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    base, head = SAMPLES / "base.json", SAMPLES / "head.json"
    assert main(["collect", "-q", "--out", str(out), "--openapi", str(base), str(head)]) == EXIT_OK
    report = json.loads((out / "latest.json").read_text())
    assert report["summary"]["openapi"] == {"breaking": 9, "non_breaking": 2, "source": "healthdeck",
                                            "files": [str(base), str(head)]}  # fmt: skip
    assert len(report["details"]["openapi"]) == 11 and report["details"]["openapi"][0]["breaking"]
    assert set(report["details"]["openapi"][0]) == {
        "rule",
        "level",
        "breaking",
        "method",
        "path",
        "location",
        "message",
    }
    md = (out / "latest.md").read_text()
    assert "**9 breaking changes**, 2 non-breaking" in md and "`new-required-request-parameter`" in md
    assert (
        main(
            ["comment", "--report", str(out / "latest.json"), "--history", f"sqlite:///{out}/history.sqlite"]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "**9 breaking OpenAPI changes**:" in text
    assert "- `new-required-request-parameter` `GET /users` `parameters.query.org`" in text


def _api(schemas: dict, body: str = "L0") -> dict:
    """A one-operation OpenAPI 3.0 document whose request body is `body` from `schemas`."""
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "components": {"schemas": schemas},
            "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {
                "$ref": f"#/components/schemas/{body}"}}}}, "responses": {"200": {"description": "ok"}}}}}}  # fmt: skip


def _dag(leaf_type: str, levels: int = 30) -> dict:
    """Each level's three properties are the level below: 3^levels places, in a few kB."""
    schemas = {"L0": {"type": "object", "properties": {"v": {"type": leaf_type}}}}
    for i in range(1, levels):
        below = {"$ref": f"#/components/schemas/L{i - 1}"}
        schemas[f"L{i}"] = {"type": "object", "properties": {k: below for k in "abc"}}
    return _api(schemas, f"L{levels - 1}")


BILLION_LAUGHS = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"x-a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]\n" for i in range(1, 10)
)  # fmt: skip


HOSTILE_SPECS = [
        # shared schemas nested into 3^30 places: refused in seconds, not walked until memory runs out
        ("dag.json", _dag("integer"), "nest shared schemas into more than 200,000 places to compare"),
        ("laughs.yaml", BILLION_LAUGHS, "YAML aliases expand the document to"),
        ("ftp.json", _api({"L0": {"$ref": "ftp://127.0.0.1:9/x.json"}}), "points to the network"),
        ("urn.json", _api({"L0": {"$ref": "urn:uuid:1234"}}), "points to the network"),
        ("host.json", _api({"L0": {"$ref": "//127.0.0.1:9/x.json"}}), "points to the network"),
        ("nowhere.json", _api({}, "Nope"), "'/components/schemas/Nope' does not exist"),
        ("missing-file.json", _api({"L0": {"$ref": "nothere.json#/A"}}), "cannot resolve $ref: nothere.json#/A"),
        ("cycle.json", _api({"L0": {"$ref": "#/components/schemas/L1"}, "L1": {"$ref": "#/components/schemas/L0"}}),
         "nested too deeply to validate"),
        ("deep.json", '{"openapi": "3.0.3", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "neither JSON nor YAML"),
        ("bignum.yaml", "openapi: 3.0.3\nx: " + "9" * 5000 + "\n", "neither JSON nor YAML: Exceeds the limit"),
        ("lists.json", '{"openapi": "3.0.3", "x": [' + ",".join(["[]"] * 3_000_000) + "]}",
         "MiB, more than 256 MiB to decode (limit max_decoded_mb"),
        ("deep.yaml", "openapi: 3.0.3\nx: " + "[" * 100_000 + "]" * 100_000 + "\n", "nest"),  # libyaml: "nesting depth"; PyYAML: "nested"
    ]  # fmt: skip


@pytest.mark.parametrize("name, head, words", HOSTILE_SPECS, ids=[case[0] for case in HOSTILE_SPECS])  # fmt: skip
def test_hostile_specs_are_one_line_and_exit_3(tmp_path, capsys, name, head, words) -> None:
    """Every one is refused in one line naming the file, quickly, with nothing fetched from the network."""
    import time

    path = tmp_path / name
    path.write_text(head if isinstance(head, str) else json.dumps(head))
    base = _write(
        tmp_path, "base.json", _dag("string") if name == "dag.json" else _api({"L0": {"type": "object"}})
    )
    started = time.monotonic()
    assert (
        main(["collect", "--out", str(tmp_path / "out"), "--no-history", "--openapi", str(base), str(path)])
        == EXIT_INPUT
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and words in err, err
    assert time.monotonic() - started < 30


YAML_CASES = [
    "a: 1\nb: [1, 2.5, true, null, ~, 2020-01-01, 2020-01-01T10:00:00Z, '3', 0x10, 0o17, 1:20, .inf, -.inf, yes]\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\ne: {<<: [*b, {z: 1, x: 5}], x: 9}\nf: {<<: {x: 1}}\n",
    "- &a x\n- *a\n- !!str 5\n- !!binary aGVsbG8=\n- !!float 1\n- &l [1, *a]\n- *l\n",
    "", "# a comment\n", "---\na: 1\n...\n", "200: ok\ntrue: 1\n1.5: x\nnull: y\n", "'<<': 1\n",
    "a: |\n  two\n  lines\nb: >\n  folded\n  text\n",
    "a: 1\n---\nb: 2\n", "[1, 2", "{[1]: 2}", "*x", "a: !!python/object:os.system x\n", "a: !custom 1\n",
    "<<: 1\n",
]  # fmt: skip


def _loaded(load, text: str) -> object:
    try:
        return load(text)
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.mark.parametrize("text", [*YAML_CASES, (FIXTURES / "shop.yaml").read_text()])
def test_yaml_is_read_from_events_as_safe_load_reads_it(text: str) -> None:
    """Specs are built from PyYAML's events, not from its node graph (some 600 bytes a value): the same
    values (the same resolver and scalar constructors), the same errors."""
    from healthdeck.collectors.openapi_load import load_yaml

    assert _loaded(lambda t: load_yaml(t, 2**30), text) == _loaded(yaml.safe_load, text)


def test_a_yaml_spec_past_max_decoded_mb_is_one_line_and_exit_3(tmp_path, capsys, monkeypatch) -> None:
    """Empty flow lists cost 560 bytes each as PyYAML builds its node graph (3 million, 9 MB of YAML,
    would take 1.7 GB): counted as they are built, the spec is refused at the budget (16 MiB here, to
    stay quick: libyaml's events alone take some 1.4 µs each)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.healthdeck]\nmax_decoded_mb = 16\n")
    head = tmp_path / "lists.yaml"
    head.write_text("openapi: 3.0.3\nx: [" + ",".join(["[]"] * 200_000) + "]\n")
    base = _write(tmp_path, "base.json", _api({"L0": {"type": "object"}}))
    assert main(["collect", "--out", "out", "--no-history", "--openapi", str(base), str(head)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(head) in err, err
    assert "the document (at line 2) would take more than 16 MiB to decode (limit max_decoded_mb" in err


def test_yaml_collection_tags_are_refused_and_a_document_past_the_budget_is_cut_short() -> None:
    import re

    from healthdeck.collectors.checks import MIB
    from healthdeck.collectors.openapi_load import load_yaml

    assert "the tag tag:yaml.org,2002:set is not read" in _loaded(
        lambda t: load_yaml(t, 2**30), "!!set {a, b}"
    )
    # one element a line, some 640 bytes each as built: the budget is reached near line 13 000 of 30 000,
    # and nothing past it is built
    text = "x:\n" + "".join(["- [1, {a: b}]\n"] * 30_000)
    with pytest.raises(Exception, match=r"^the document \(at line \d+\) would take more than 8 MiB") as info:
        load_yaml(text, 8 * MIB)
    line = int(re.search(r"at line (\d+)", str(info.value)).group(1))
    assert 8 * MIB / 1000 < line < 8 * MIB / 400, line


def test_an_anyof_of_itself_and_yaml_status_codes_are_read(tmp_path) -> None:
    """A schema that is an anyOf of eight references to itself is worked out once per node (it was 8^10
    calls); YAML's unquoted `200:` is the status code "200", as every OpenAPI tool reads it."""
    from healthdeck.collectors.openapi import collect_openapi

    fanout = {"S": {"anyOf": [*[{"$ref": "#/components/schemas/S"}] * 8, {"type": "string"}]}}
    path = _write(tmp_path, "fanout.json", _api(fanout, "S"))
    assert collect_openapi(path, path).changes == ()
    base = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n"
    head = base.replace("200:", "404:")
    (tmp_path / "base.yaml").write_text(base)
    (tmp_path / "head.yaml").write_text(head)
    [removed] = [
        c for c in collect_openapi(tmp_path / "base.yaml", tmp_path / "head.yaml").changes if c.breaking
    ]
    assert removed.rule == "response-success-status-removed" and "200" in removed.message


_HEADER = "Breaking changes found between the two specifications:\n"


def _finding(details: object) -> str:
    item = {"action": "remove", "code": "path.remove", "entity": "path", "sourceSpecEntityDetails": details}
    return _HEADER + json.dumps({"breakingDifferencesFound": True, "breakingDifferences": [item]})


def _oas(**item: object) -> str:
    return json.dumps([{"id": "api-path-removed", "level": 3, "operation": "GET", "path": "/a", **item}])


BAD_TOOL_REPORTS = [
        ("details-str.txt", _finding("str"), "entity details are not a list of objects"),
        ("details-int.txt", _finding([5]), "entity details are not a list of objects"),
        ("details-dict.txt", _finding({"location": "paths./a.get"}), "entity details are not a list of objects"),
        ("found-str.txt", _HEADER + json.dumps({"breakingDifferencesFound": "false"}), "not true or false"),
        ("level-list.json", _oas(level=[3]), "has an unknown level [3]"),
        ("level-bool.json", _oas(level=True), "has an unknown level True"),
        ("operation-list.json", _oas(operation=["GET"]), "operation and path must be text"),
        ("deep.txt", _HEADER + "[" * 100_000 + "]" * 100_000, "header without its JSON"),
        ("bignum.json", '[{"id": "x", "level": ' + "9" * 5000 + "}]", "neither its header line nor JSON"),
        # what npm openapi-diff 0.24.1 printed (2>&1) for a FastAPI 3.1 spec it cannot read, and oasdiff's error
        ("od-error.txt", 'OpenApiDiffErrorImpl [VError]: Validation errors in "base/openapi.json": Unsupported '
         "OpenAPI version: 3.1.0. Swagger Parser only supports versions 3.0.0, 3.0.1, 3.0.2, 3.0.3\n    at "
         "/x/node_modules/openapi-diff/dist/openapi-diff/spec-parser/common/validate-and-dereference-spec.js:23:15\n",
         "the diff tool failed instead of writing a report: Validation errors in \"base/openapi.json\": "
         "Unsupported OpenAPI version: 3.1.0"),
        ("oasdiff-error.txt", 'Error: failed to load base spec from "base.yaml": open base.yaml: no such file\n',
         'the diff tool failed instead of writing a report: failed to load base spec from "base.yaml"'),
        ("lists.json", "[" + ",".join(["[]"] * 3_000_000) + "]",
         "MiB, more than 256 MiB to decode (limit max_decoded_mb"),
    ]  # fmt: skip


@pytest.mark.parametrize("name, content, words", BAD_TOOL_REPORTS, ids=[case[0] for case in BAD_TOOL_REPORTS])  # fmt: skip
def test_malformed_tool_reports_are_one_line_and_exit_3(tmp_path, capsys, name, content, words) -> None:
    bad = tmp_path / name
    bad.write_text(content)
    assert (
        main(["collect", "--out", str(tmp_path / "out"), "--no-history", "--openapi-report", str(bad)])
        == EXIT_INPUT
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and words in err, err


def test_a_report_of_many_changes_keeps_exact_counts_and_a_readable_list(tmp_path) -> None:
    """1 500 oasdiff findings, one with a megabyte of text: the summary counts all, latest.json lists the
    first 1 000 (breaking first) with bounded text, and latest.md says it shows only those."""
    from healthdeck.reports.build import API_CHANGES_LISTED, API_TEXT_CHARS

    items = [
        {"id": "endpoint-added", "level": 1, "operation": "GET", "path": f"/p{i}", "text": "x"}
        for i in range(1_499)
    ]
    items.append({"id": "api-path-removed-without-deprecation", "level": 3, "operation": "GET", "path": "/gone",
                  "text": "y" * 1_000_000})  # fmt: skip
    report_file = tmp_path / "oasdiff.json"
    report_file.write_text(json.dumps(items))
    out = tmp_path / "out"
    assert (
        main(["collect", "-q", "--out", str(out), "--no-history", "--openapi-report", str(report_file)])
        == EXIT_OK
    )
    report = json.loads((out / "latest.json").read_text())
    assert (report["summary"]["openapi"]["breaking"], report["summary"]["openapi"]["non_breaking"]) == (
        1,
        1_499,
    )
    listed = report["details"]["openapi"]
    assert (
        len(listed) == API_CHANGES_LISTED
        and listed[0]["breaking"]
        and len(listed[0]["message"]) == API_TEXT_CHARS
    )
    assert "Showing the first 1 000, breaking first." in (out / "latest.md").read_text()
