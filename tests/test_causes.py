"""Cause signatures: the normaliser on real messages, failure bodies, grouping, categories."""

from __future__ import annotations

import json
import random
import re
import signal
import time
from array import array
from xml.sax.saxutils import escape

import pytest

from healthdeck.collectors.junit import FailingTest, collect_junit
from healthdeck.collectors.traces import read_trace
from healthdeck.reports import causes as causes_module
from healthdeck.reports.causes import group_causes, normalise, signature
from healthdeck.reports.cli import EXIT_USAGE, main
from healthdeck.reports.config import Category, load_config
from tests.conftest import EDGE, REAL

# Real messages, as pytest, Python and other runners wrote them, and what must stay of them.
REAL_MESSAGES = [
    # redis-py without a server: the port and the errno are volatile, the rest is the cause
    ("redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
     "redis.exceptions.ConnectionError: Error <n> connecting to localhost:<n>. Connection refused."),
    ("ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432)",
     "ConnectionRefusedError: [Errno <n>] Connect call failed ('<ip>', <n>)"),
    # dateutil, tests/fixtures/real: an object address
    ("AssertionError: assert False +  where False = isinstance(tzutc(), <class 'dateutil.tz.tz.tzlocal'>) + "
     "where tzutc() = <dateutil.tz.tz.__get_gettz.<locals>.GettzFunc object at 0x7f3f0f115610>('UTC')",
     "AssertionError: assert False + where False = isinstance(tzutc(), <class 'dateutil.tz.tz.tzlocal'>) + "
     "where tzutc() = <dateutil.tz.tz.__get_gettz.<locals>.GettzFunc object at <hex>>('UTC')"),
    # pytest's tmp_path in a message
    ("FileNotFoundError: [Errno 2] No such file or directory: '/tmp/pytest-of-root/pytest-12/test_load0/data.json'",
     "FileNotFoundError: [Errno <n>] No such file or directory: '<tmp>'"),
    ("ValueError: unknown request 3fa85f64-5717-4562-b3fc-2c963f66afa6 (trace 4bf92f3577b34da6a3ce929d0e0e4736)",
     "ValueError: unknown request <uuid> (trace <hex>)"),
    ("AssertionError: token expired at 2026-03-01T10:00:00.123Z, now 2026-03-01 10:05:00+00:00",
     "AssertionError: token expired at <ts>, now <ts>"),
    ("KeyError: 'user-48213'", "KeyError: 'user-<n>'"),
    ("KeyError: 'user_2'", "KeyError: 'user_<n>'"),  # one digit or five: one cause
    ("KeyError: 'req-2024-x1'", "KeyError: '<id>'"),
    ("TimeoutError: timed out after 30s waiting for job 17 on 10.1.2.3:8080",
     "TimeoutError: timed out after <n>s waiting for job <n> on <ip>:<n>"),
    # identifiers that contain digits are not volatile
    ("ModuleNotFoundError: No module named 'py3compat'", "ModuleNotFoundError: No module named 'py3compat'"),
    ("AssertionError: sha256 of utf8 text differs", "AssertionError: sha256 of utf8 text differs"),
]  # fmt: skip


@pytest.mark.parametrize(("message", "expected"), REAL_MESSAGES)
def test_normaliser_on_real_messages(message: str, expected: str) -> None:
    assert signature(message).text == expected
    assert normalise(expected) == expected  # idempotent: a signature normalises to itself


def test_same_breakage_same_signature_different_breakage_different_signature() -> None:
    a = signature(
        "failed on setup with \"ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 40211)\""
    )
    b = signature(
        "failed on setup with \"ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 51023)\""
    )
    assert a == signature(a.example) or a.text == b.text
    assert a.text == b.text and a.id == b.id and a.exception_type == "ConnectionRefusedError"
    assert (
        signature("ModuleNotFoundError: No module named 'pretend'").text
        != signature("ModuleNotFoundError: No module named 'tomli_w'").text
    )


def test_message_cut_mid_word_is_stable() -> None:
    cut = [f"ValueError: bad row {n} in batch {'x' * 40} and so on…" for n in (7, 70000)]
    assert signature(cut[0]).text == signature(cut[1]).text


def test_empty_message_uses_the_last_frame() -> None:
    one = signature("", "Exception", None, "tests/test_x.py:42")
    two = signature("Exception", "Exception", None, "tests/test_x.py:57")
    assert one.text == two.text == "Exception at tests/test_x.py:<n>"
    assert signature("", None, None, "tests/test_y.py:3 in check").text == "at tests/test_y.py:<n> in check"
    assert signature("").text == "(no message)"


def test_pytest_assert_without_type_takes_the_type_from_the_traceback() -> None:
    assert signature("assert 2 != 2", "AssertionError").text == "AssertionError: assert <n> != <n>"


def test_collection_failures_are_told_apart_by_the_failure_body() -> None:
    """packaging 26.3 run without its test dependencies: every module says "collection failure"."""
    result = collect_junit([REAL / "packaging.junit-collection-errors.xml"])
    causes = group_causes(result.failing)
    assert [(c.signature, c.count) for c in causes] == [
        ("ModuleNotFoundError: No module named 'pretend'", 5),
        ("ModuleNotFoundError: No module named 'tomli_w'", 1),
    ]
    assert causes[0].outcomes == {"error": 5}


def test_edge_project_causes() -> None:
    """The real pytest edge project: setup/teardown errors are unwrapped, the strict xpass keeps its text."""
    causes = {c.signature: c for c in group_causes(collect_junit([EDGE / "xunit2.xml"]).failing)}
    assert "RuntimeError: setup boom" in causes and "RuntimeError: teardown boom" in causes
    assert "ModuleNotFoundError: No module named 'not_a_module_xyz'" in causes
    assert "[XPASS(strict)] strict" in causes
    # "assert 2 != 2" and "assert 3 != 3" (a parametrised test and a subtest) are one shape of failure
    assert causes["AssertionError: assert <n> != <n>"].count == 2
    assert sum(c.count for c in causes.values()) == 9


PYTEST_LONG = """def test_version():
>       assert dateutil.__version__ == "2.9.0"
E       AssertionError: assert '4.0.0' == '2.9.0'
E         - 2.9.0
E         + 4.0.0

tests/test_imports.py:95: AssertionError"""
PYTEST_COLLECT = """ImportError while importing test module '/src/tests/test_tags.py'.
Traceback:
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_tags.py:24: in <module>
    import pretend
E   ModuleNotFoundError: No module named 'pretend'"""
PYTHON_NATIVE = """Traceback (most recent call last):
  File "/src/tests/test_db.py", line 12, in test_query
    conn = connect()
  File "/src/app/db.py", line 40, in connect
    raise ConnectionError("db down")
ConnectionError: db down"""
JAVA = """org.opentest4j.AssertionFailedError: expected: <1> but was: <2>
\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)
\tat com.acme.CalcTest.adds(CalcTest.java:14)"""


@pytest.mark.parametrize(
    ("body", "exception", "kind", "frame"),
    [
        (PYTEST_LONG, "AssertionError: assert '4.0.0' == '2.9.0'", "AssertionError", "tests/test_imports.py:95"),
        (PYTEST_COLLECT, "ModuleNotFoundError: No module named 'pretend'", None, "tests/test_tags.py:24 in <module>"),
        (PYTHON_NATIVE, "ConnectionError: db down", None, "/src/app/db.py:40 in connect"),
        (JAVA, None, None, "org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)"),
        ("", None, None, None),
    ],
)  # fmt: skip
def test_read_trace(body: str, exception: str | None, kind: str | None, frame: str | None) -> None:
    facts = read_trace(body)
    assert (facts.exception, facts.exception_type, facts.last_frame) == (exception, kind, frame)


def test_a_huge_body_is_read_at_its_ends_only() -> None:
    body = "def test_x():\n" + "    middle line\n" * 200_000 + "E   KeyError: 'k'\n\ntests/t.py:3: KeyError"
    facts = read_trace(body)
    assert (facts.exception, facts.exception_type, facts.last_frame) == (
        "KeyError: 'k'",
        "KeyError",
        "tests/t.py:3",
    )
    java = JAVA + "\n\tat org.junit.Runner.run(Runner.java:1)" * 100_000
    assert read_trace(java).last_frame == "org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)"


def test_junit_keeps_type_attribute_and_frame(write) -> None:
    path = write(
        "surefire.xml",
        '<testsuite><testcase classname="com.acme.CalcTest" name="adds">'
        f'<failure type="org.opentest4j.AssertionFailedError">{escape(JAVA)}</failure></testcase>'
        '<testcase classname="t" name="bare"><failure message="Exception">def test_bare():\n'
        "&gt;       raise Exception()\nE       Exception\n\ntests/t.py:9: Exception</failure></testcase>"
        "</testsuite>",
    )
    by_id = {f.test_id: f for f in collect_junit([path]).failing}
    adds = by_id["com.acme.CalcTest::adds"]
    assert adds.exception_type == "org.opentest4j.AssertionFailedError"
    assert adds.last_frame == "org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)"
    bare = by_id["t::bare"]
    assert (bare.exception_type, bare.last_frame) == ("Exception", "tests/t.py:9")
    assert signature(bare.message, bare.exception_type, bare.exception, bare.last_frame).text == (
        "Exception at tests/t.py:<n>"
    )


def _failing(n: int, message: str, outcome: str = "failed", prefix: str = "t") -> list[FailingTest]:
    return [FailingTest(f"{prefix}::test_{i}", outcome, message.format(i=i)) for i in range(n)]


def test_grouping_largest_first_with_exact_counts() -> None:
    failing = (
        _failing(3, "KeyError: 'user-{i}0000'", prefix="a")
        + _failing(5, "OSError: port {i}000 busy", "error", prefix="b")
        + _failing(3, "AssertionError: {i} apples", prefix="c")
    )
    causes = group_causes(failing)
    assert [(c.signature, c.count) for c in causes] == [
        ("OSError: port <n> busy", 5),
        ("AssertionError: <n> apples", 3),  # ties: by signature, so the order is stable
        ("KeyError: 'user-<n>'", 3),
    ]
    assert causes[0].tests == [f"b::test_{i}" for i in range(5)] and causes[0].example_test == "b::test_0"
    assert causes[0].outcomes == {"error": 5}


def test_categories_first_match_wins() -> None:
    categories = (
        Category("infrastructure", re.compile(r"Connection|port \S+ busy"), frozenset({"error"})),
        Category("product defect", None, frozenset({"failed"})),
        Category("anything about ports", re.compile("port")),
    )
    failing = _failing(2, "OSError: port {i} busy", "error", "a") + _failing(
        1, "OSError: port {i} busy", "failed", "b"
    )
    failing += _failing(1, "AssertionError: no", "failed", "c")
    by_sig = {c.signature: c for c in group_causes(failing, categories)}
    # one cause mixing outcomes; "error" is among them, so infrastructure matches first
    assert by_sig["OSError: port <n> busy"].category == "infrastructure"
    assert by_sig["AssertionError: no"].category == "product defect"
    only_error = group_causes(_failing(1, "ValueError: x", "error"), categories)
    assert only_error[0].category is None


def test_categories_config(tmp_path) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(
        '[tool.healthdeck.categories]\ninfrastructure = { message = "Connection(Refused|Reset)Error", outcome = "error" }\n'
        '"product defect" = { outcome = ["failed"] }\n'
    )
    config = load_config(cfg)
    assert [c.name for c in config.categories] == ["infrastructure", "product defect"]
    assert config.categories[0].outcomes == {"error"} and config.categories[0].message.pattern.startswith(
        "Conn"
    )


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('broken = { message = "([unclosed" }', "broken.message is not a valid regular expression"),
        ('typo = { mesage = "x" }', "typo: unknown key 'mesage'"),
        ('wrong = { outcome = "skipped" }', "wrong.outcome must be one or more of failed, error"),
        ("empty = {}", "empty must be a table with message and/or outcome"),
    ],
)
def test_bad_category_config_is_exit_2_naming_the_key(tmp_path, capsys, table: str, named: str) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(f"[tool.healthdeck.categories]\n{table}\n")
    code = main(["collect", "--config", str(cfg), "--no-history", "--out", str(tmp_path / "o"),
                 "--junit", f"s={EDGE / 'xunit2.xml'}"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "[tool.healthdeck.categories]" in err and named in err and len(err.strip().splitlines()) == 1


def test_other_runners_causes() -> None:
    """The runners corpus (tests/fixtures/runners): located messages and bare locations read right."""
    runners = REAL.parent / "runners"
    go = [c.signature for c in group_causes(collect_junit([runners / "gotestsum.xml"]).failing)]
    assert "Add(<n>, <n>) = <n>, want <n> & more" in go and "got <n> want <n>" in go
    gtest = [c.signature for c in group_causes(collect_junit([runners / "googletest.xml"]).failing)]
    assert sorted(gtest) == [
        'C++ exception with description "boom & bust" thrown in the test body.',
        "Expected equality of these values:",
        "Expected: (GetParam()) > (<n>), actual: -<n> vs <n>",
    ]
    java = group_causes(collect_junit([runners / "surefire-reruns.xml"]).failing)
    assert [c.signature for c in java] == [
        "java.lang.AssertionError: fails every time expected:<<n>> but was:<<n>>"
    ]


def test_pipes_direction_overrides_and_colours_from_a_real_pytest_run(tmp_path, capsys) -> None:
    """A real pytest run: a test id holding `|` and a right-to-left override, and one failure raised with
    and without terminal colours (pytest's XML writes ESC as the text "#x1B"). The comment and latest.md
    show the id as it is (no stray backslash outside tables, no reversed text) and the coloured and
    plain failures are one cause."""
    import subprocess
    import sys

    (tmp_path / "test_it.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('x', ['a|b', 'evil\\u202egnp.exe'], ids=['a|b', 'evil\\u202egnp.exe'])\n"
        "def test_id(x):\n    assert False, f'bad value {x}'\n\n"
        "@pytest.mark.parametrize('color', [True, False])\n"
        "def test_color(color):\n"
        "    raise RuntimeError(('\\x1b[31m' if color else '') + 'server down' + ('\\x1b[0m' if color else ''))\n"
    )
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                    "test_it.py"], cwd=tmp_path, capture_output=True, check=False)  # fmt: skip
    assert "#x1B[31m" in junit.read_text()  # as pytest writes it
    out = tmp_path / "out"
    assert main(["collect", "-q", "--no-history", "--out", str(out), "--junit", f"unit={junit}"]) == 0
    causes = [
        c["signature"]
        for c in json.loads((out / "latest.json").read_text())["details"]["tests"]["unit"]["causes"]
    ]
    assert sum("server down" in c for c in causes) == 1 and not any("#x1B" in c for c in causes), causes
    capsys.readouterr()
    assert main(["comment", "--report", str(out / "latest.json")]) == 0
    for text in (capsys.readouterr().out, (out / "latest.md").read_text()):
        assert "\u202e" not in text
        listed = [line for line in text.splitlines() if line.startswith("- ") and "test_id[a" in line]
        assert listed and all("`test_it::test_id[a|b]`" in line for line in listed), (
            listed
        )  # as pytest names it


def test_real_pytest_asserts_group_by_the_check_and_survive_cut_addresses(tmp_path) -> None:
    """Two real pytest runs of one breakage. A bare `assert False` is told apart by what was false (pytest's
    `where` line): a tampered-signature check and an isinstance check are two causes, the same check on
    other values one. A long repr holding `<object object at 0x…>` is cut by pytest to '<objec...c71530>':
    the address tail must not make a new cause on every run."""
    import subprocess
    import sys

    (tmp_path / "test_it.py").write_text(
        "import datetime\n\n"
        "class Signer:\n    def validate(self, value):\n        return value.endswith(b'!')\n\n"
        "def test_tampered_a():\n    assert Signer().validate(b'payload-1' + b'x')\n\n"
        "def test_tampered_b():\n    assert Signer().validate(b'other.payload' + b'y')\n\n"
        "def test_decoded():\n    assert isinstance(None, datetime.datetime)\n\n"
        "def test_repr():\n"
        "    o = object()\n"
        "    assert f'Sub(x={o!r}, y=2)' == f'Sub(x={o!r}; y=2)'\n"
    )
    runs = []
    for n in (1, 2):
        junit, out = tmp_path / f"junit{n}.xml", tmp_path / f"out{n}"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
                        "test_it.py"], cwd=tmp_path, capture_output=True, check=False)  # fmt: skip
        assert main(["collect", "-q", "--no-history", "--out", str(out), "--junit", f"unit={junit}"]) == 0
        causes = json.loads((out / "latest.json").read_text())["details"]["tests"]["unit"]["causes"]
        runs.append({c["signature"]: c["count"] for c in causes})
    assert runs[0] == runs[1], runs  # the same breakage, the same causes, run after run
    assert runs[0]["AssertionError: assert False (where False = validate(…))"] == 2
    assert runs[0]["AssertionError: assert False (where False = isinstance(…))"] == 1
    [cut] = [s for s in runs[0] if "Sub(x=" in s]
    assert "...<hex>>" in cut, cut  # pytest did cut the repr, and its tail is a placeholder


def test_a_runaway_category_regex_is_a_configuration_error(tmp_path, monkeypatch, capsys) -> None:
    """A pull request can commit a regex that backtracks catastrophically on a failure message: collect
    stops matching it after the deadline and says which category, one line, exit 2 (nothing written)."""
    monkeypatch.setattr(causes_module, "CATEGORY_SECONDS", 0.5)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.healthdeck.categories]\nfine = { message = "Connection" }\nslow = { message = "(a+)+$" }\n'
    )
    junit = tmp_path / "smoke.xml"
    message = "AssertionError: " + "a" * 60 + "!"
    junit.write_text(
        '<testsuite name="s" tests="2"><testcase classname="m" name="t1"><failure message="'
        + message + '"/></testcase><testcase classname="m" name="t2"/></testsuite>'
    )  # fmt: skip
    started = time.monotonic()
    code = main(["collect", "--config", str(tmp_path / "pyproject.toml"), "--junit", f"smoke={junit}",
                 "--out", str(tmp_path / "out"), "--no-history"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_USAGE and time.monotonic() - started < 30
    assert (
        len(err) == 1
        and "[tool.healthdeck.categories] slow.message: matching" in err[0]
        and "(a+)+$" in err[0]
    ), err
    assert str(tmp_path / "pyproject.toml") in err[0]
    assert not (tmp_path / "out" / "latest.json").exists()
    # the same regex on a message it does not backtrack on is an ordinary category; and the timer is gone
    quick = group_causes(
        _failing(1, "AssertionError: aaa"), load_config(tmp_path / "pyproject.toml").categories
    )
    assert quick[0].category == "slow" and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_past_max_causes_failures_fold_into_one_counted_cause(monkeypatch) -> None:
    """Every failure with a cause of its own (a per-test word in the message) keeps memory bounded: past
    MAX_CAUSES distinct signatures they fold into one cause, and the number of causes stays exact."""
    from healthdeck.reports import causes as module

    monkeypatch.setattr(module, "MAX_CAUSES", 3)
    failing = _failing(10, "ValueError: bad word{i}x")  # 'word0x', 'word1x': digits inside a word stay
    grouped = group_causes(failing)
    folded = [c for c in grouped if c.signature == module.FOLDED]
    assert len(grouped) == 4 and len(folded) == 1 and folded[0].count == 7 and folded[0].folded == 7
    assert sum(c.count for c in grouped) == 10 and module.distinct_causes(grouped) == 10


def test_folded_causes_are_counted_once_each_however_often_they_fail(monkeypatch) -> None:
    """The folded signatures are kept as 8-byte ids, one per folded failure, and counted distinct at the
    end (a set of them took 60 MB for 990 000)."""
    from healthdeck.reports import causes as module

    monkeypatch.setattr(module, "MAX_CAUSES", 2)
    failing = _failing(30, "ValueError: bad word{i}x")[:10] * 3  # ten signatures, each failing thrice
    folded = next(c for c in group_causes(failing) if c.signature == module.FOLDED)
    assert folded.folded == 8 and folded.count == 24
    ids = array("Q", [(b << 40) | n for b in (0, 7, 255) for n in (1, 2, 2, 3, 1 << 39)])
    assert module._distinct(ids) == len(set(ids)) == 12


@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 16])
def test_natural_order_is_a_stable_sort_by_natural_key_in_any_chunks(monkeypatch, chunk: int) -> None:
    """natural_order sorts a chunk at a time and merges them: the order is sorted()'s, ties included."""
    from healthdeck.reports import ordering

    monkeypatch.setattr(ordering, "_CHUNK", chunk)
    texts = ["t10", "t2", "a", "t2", "t1", "t010", "b3", "t10", "t9", "", "t2", "b03"]
    expected = sorted(range(len(texts)), key=lambda i: ordering.natural_key(texts[i]))
    assert list(ordering.natural_order(texts)) == expected
    assert [texts[i] for i in expected][:6] == ["", "a", "b3", "b03", "t1", "t2"]


def _random_breakage(seed: int) -> list[FailingTest]:
    """Three breakages whose messages differ only in random ids, numbers, ports and line numbers, as
    real ones do: an id may happen to be all hex, all digits or mixed (a placeholder of each kind)."""
    rng = random.Random(seed)

    def chars(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    shapes = [
        (6000, "ConnectionRefusedError: [Errno 111] could not connect to db at 127.0.0.1:{port} (session "
               "'{mixed}', attempt {n}, line {line})"),
        (3000, "AssertionError: order {n} for customer '{hex12}' has total {n} but expected {n} (line {line})"),
        (1000, "TimeoutError: worker {n} timed out waiting for job {hex8} on port {port}"),
    ]  # fmt: skip
    failing = []
    for count, template in shapes:
        for _ in range(count):
            message = template.format(
                port=rng.randint(1024, 65535), n=rng.randint(1, 99999), line=rng.randint(10, 900),
                mixed=chars("abcdefghjkmnpqrstuvwxyz0123456789", 7) + str(rng.randint(10, 99)),
                hex12=chars("0123456789abcdef", 12), hex8=chars("0123456789abcdef", 8),
            )  # fmt: skip
            failing.append(FailingTest(f"t::test_{len(failing)}", "failed", message))
    rng.shuffle(failing)
    return failing


def test_random_ids_of_any_shape_make_one_cause_and_the_same_one_every_run() -> None:
    first, second = group_causes(_random_breakage(13)), group_causes(_random_breakage(99))
    assert [c.count for c in first] == [c.count for c in second] == [6000, 3000, 1000]
    assert [c.id for c in first] == [c.id for c in second]
    assert (
        [c.signature for c in first]
        == [c.signature for c in second]
        == [
            "ConnectionRefusedError: [Errno <n>] could not connect to db at <ip>:<n> (session '<id>', attempt <n>, "
            "line <n>)",
            "AssertionError: order <n> for customer '<hex>' has total <n> but expected <n> (line <n>)",
            "TimeoutError: worker <n> timed out waiting for job <hex> on port <n>",
        ]
    )
    # and each kind of value is one: all hex with a letter, all digits, mixed
    assert (
        len(
            {
                signature(f"KeyError: customer '{v}'").id
                for v in ("dc521d5daf36", "476045684931", "x9c21d5daf36")
            }
        )
        == 1
    )
