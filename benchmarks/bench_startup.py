"""Start-up benchmark: the light CLI commands vs a bare `python -c pass`, as whole processes.

    python benchmarks/bench_startup.py [--repeat 15] [--max-ratio 5] [--python PATH] [--markdown]

Builds a small report (the bundled sample's smoke suite and coverage) and its SQLite history in a
temporary git repository (CI runs in a checkout: `gate` asks git which commit is checked out), starts a
local stand-in for GitHub's REST API for `comment --post` — over plain HTTP, and over TLS as GitHub
is reached (a throwaway CA from trustme, appended to certifi's bundle so that the client loads as many
certificates as it does for api.github.com) — then times each command as a whole process — the `healthdeck` console script installed beside
the interpreter, as CI calls it — interleaved with `python -c pass` on the same interpreter, so load on
the machine hits every contender alike. collect ran first, as in a CI job, so the commands read its parse
of pyproject.toml back (reports.config's parse cache, kept in the run's own folder); the "no parse cache"
row is a gate that parses it itself. Prints the median wall time and CPU time (user + system, child
processes such as git included) of each and their ratios to the bare interpreter's medians.

`--python PATH` times another environment, e.g. a fresh venv with only the built wheel. `--max-ratio`
makes the run fail (exit 1) when a command's median CPU time is more than that many bare starts (CPU,
not wall: on a shared machine wall time also holds the time other work had the cores).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from github_standin import GitHubStandIn  # noqa: E402  (tests/ holds the stand-in the tests use too)

BARE = "python -c pass"
COLD = "healthdeck gate (no parse cache)"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}  # fmt: skip


def prepare(tmp: Path, healthdeck: list[str]) -> Path:
    """A small report with its history: one collect over the sample's smoke suite and coverage, in a git
    repository with one commit."""
    sample = REPO / "reports" / "samples" / "dateutil"
    for name in ("smoke.junit.xml.gz", "coverage.xml.gz"):
        (tmp / name.removesuffix(".gz")).write_bytes(gzip.decompress((sample / name).read_bytes()))
    shutil.copy(sample / "pyproject.toml", tmp / "pyproject.toml")
    env = {**os.environ, **GIT_ENV, "HEALTHDECK_CACHE_DIR": str(tmp / "cache")}
    for git in (["init", "-q"], ["add", "pyproject.toml"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *git], cwd=tmp, env=env, check=True)
    out = tmp / "out"
    args = [
        "collect",
        "--junit",
        "smoke=smoke.junit.xml",
        "--coverage",
        "coverage.xml",
        "--out",
        str(out),
        "-q",
    ]
    subprocess.run([*healthdeck, *args], cwd=tmp, env=env, capture_output=True, check=True)
    return out / "latest.json"


@contextlib.contextmanager
def tls_standin(tmp: Path):
    """(a GitHub stand-in serving https://, {row label: the environment that trusts it}), or None without
    trustme. Two ways a runner trusts GitHub: the system's hashed CA folder (Debian and Ubuntu; read
    lazily), given as SSL_CERT_DIR with the throwaway CA added; and a bundle file (certifi's, where no
    folder exists; parsed whole), given as SSL_CERT_FILE."""
    try:
        import ssl

        import certifi
        import trustme

        from healthdeck.reports.http_client import system_ca_dir
    except ImportError:
        yield None
        return
    ca = trustme.CA()
    bundle = tmp / "ca-bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + ca.cert_pem.bytes())
    trust = {"(TLS, CA bundle)": {"SSL_CERT_FILE": str(bundle)}}
    system, folder = system_ca_dir(), tmp / "certs"
    if system is not None and shutil.which("openssl"):
        folder.mkdir()
        for entry in Path(system).iterdir():
            (folder / entry.name).symlink_to(entry.resolve())
        ca.cert_pem.write_to_path(str(folder / "standin-ca.pem"))
        digest = subprocess.run(
            ["openssl", "x509", "-subject_hash", "-noout", "-in", str(folder / "standin-ca.pem")],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        (folder / f"{digest}.0").symlink_to("standin-ca.pem")
        trust = {"(TLS, CA folder)": {"SSL_CERT_DIR": str(folder)}, **trust}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with GitHubStandIn(tls=context) as github:
        github.add_comments(3)
        yield github, {label: {**github.env(), **env} for label, env in trust.items()}


def timed(argv: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process. CPU (user + system, its children included) is what the
    process itself costs; on a shared machine its wall time also holds the time other work had the cores."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # gate may say NO-GO (1): that is an answer, not a failure
        raise RuntimeError(f"{argv[1:]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (median reported)")
    parser.add_argument(
        "--max-ratio", type=float, default=None, help="fail when a command's CPU ratio exceeds this"
    )
    parser.add_argument(
        "--python", default=sys.executable, metavar="PATH",
        help="the interpreter to time (default: this one), e.g. a fresh venv with only the built wheel",
    )  # fmt: skip
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    script = Path(args.python).parent / "healthdeck"
    healthdeck = [str(script)] if script.exists() else [args.python, "-m", "healthdeck.reports.cli"]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as name, GitHubStandIn() as github:
        tmp = Path(name)
        report = prepare(tmp, healthdeck)
        github.add_comments(3)
        event = tmp / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": github.pr}}))
        # as on GitHub's runners, which set neither: each TLS row names its own trust below
        inherited = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        env = {
            **inherited,
            **github.env(),
            "GITHUB_EVENT_PATH": str(event),
            "HEALTHDECK_CACHE_DIR": str(tmp / "cache"),
        }
        r = ["--report", str(report)]
        contenders = {
            BARE: ([args.python, "-c", "pass"], env),
            "healthdeck --help": ([*healthdeck, "--help"], env),
            "healthdeck gate": ([*healthdeck, "gate", *r], env),
            # as a gate that runs without collect before it in the job: pyproject.toml parsed by tomllib
            COLD: ([*healthdeck, "gate", *r], {**env, "HEALTHDECK_CACHE_DIR": ""}),
            "healthdeck comment": ([*healthdeck, "comment", *r], env),
            "healthdeck badge": ([*healthdeck, "badge", *r, "--out", str(tmp / "badges")], env),
            "healthdeck comment --post": ([*healthdeck, "comment", *r, "--post"], env),
        }
        walls: dict[str, list[float]] = {k: [] for k in contenders}
        cpus: dict[str, list[float]] = {k: [] for k in contenders}
        with tls_standin(tmp) as tls:
            for trust, tls_env in (tls[1] if tls is not None else {}).items():
                label = f"healthdeck comment --post {trust}"
                contenders[label] = ([*healthdeck, "comment", *r, "--post"], {**env, **tls_env})
                walls[label], cpus[label] = [], []
            for _ in range(args.repeat):
                for label, (argv, environment) in contenders.items():
                    wall, cpu = timed(argv, tmp, environment)
                    walls[label].append(wall)
                    cpus[label].append(cpu)
    bare_wall, bare_cpu = statistics.median(walls[BARE]), statistics.median(cpus[BARE])
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"{args.repeat} runs each, medians; {' '.join(healthdeck)}; {os.cpu_count()} cores, {load}")
    if not any("TLS" in label for label in contenders):
        print("(no TLS row: the benchmark's own interpreter has no trustme; pip install -e '.[dev]')")
    row = (
        "| {} | {:.1f} | {:.2f}x | {:.1f} | {:.2f}x |"
        if args.markdown
        else "{:<44} {:>10.1f} {:>7.2f}x {:>10.1f} {:>7.2f}x"
    )
    if args.markdown:
        print("| command | wall (ms) | vs bare | CPU (ms) | vs bare |\n|---|---:|---:|---:|---:|")
    else:
        print(f"{'command':<44} {'wall (ms)':>10} {'vs bare':>8} {'CPU (ms)':>10} {'vs bare':>8}")
    worst = 0.0
    for label in contenders:
        wall, cpu = statistics.median(walls[label]), statistics.median(cpus[label])
        if label != BARE and "TLS" not in label:  # the TLS row is for reading, not for the limit
            worst = max(worst, cpu / bare_cpu)
        shown = f"`{label}`" if args.markdown else label
        print(row.format(shown, wall * 1000, wall / bare_wall, cpu * 1000, cpu / bare_cpu))
    if args.max_ratio is not None and worst > args.max_ratio:
        print(
            f"slowest command is {worst:.2f}x bare Python in CPU time, over the {args.max_ratio}x limit",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
