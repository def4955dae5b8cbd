"""Rerun the failed tests of a run with pytest, N times, and record each attempt.

The edge of ``whyloop rerun``: it finds the pytest node id of every failed
test, runs them all once per attempt in a subprocess (bounded by a timeout),
reads each attempt's ``--report-log`` with whyloop's own parser, and returns
one row per test per attempt. :func:`whyloop.analyze.flaky.classify_reruns`
turns those rows into verdicts::

    from whyloop.analyze.flaky import classify_reruns
    from whyloop.probes.rerun import rerun_failures

    tests = whyloop.read_tests("out/report.jsonl")
    attempts = rerun_failures(tests, times=3, rootdir="lib/whyloop/sandbox/e2e",
                              pytest_args=["-c", "/dev/null"])
    classify_reruns(tests, attempts)[["test_id", "verdict", "pass_fraction"]]

Where a node id points: pytest writes node ids relative to the rootdir of the
run that made them (``test_websocket.py::test_x`` for a suite whose rootdir is
its own folder), and JUnit files may carry only a dotted ``classname``
(``tests.test_api.TestLogin``). :func:`resolve_targets` looks each one up
under ``rootdir``, then under a ``--rootdir`` and any paths given among the
pytest arguments. Those paths are not passed on to pytest (they would run
every test under them); only the failed tests run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from whyloop.analyze.flaky import RERUN_COLUMNS, failures_to_rerun
from whyloop.analyze.signatures import signatures
from whyloop.errors import ConfigError, IngestError
from whyloop.ingest.tests.frame import to_frame
from whyloop.ingest.tests.pytest_json import parse_reportlog
from whyloop.redact import redact_frame, redact_text

__all__ = [
    "RERUN_TIMEOUT_S",
    "RerunTarget",
    "rerun_command",
    "rerun_failures",
    "resolve_targets",
    "split_pytest_args",
]

#: the default bound on one rerun (all failed tests once)
RERUN_TIMEOUT_S = 300.0

# pytest options that take a value as the next argument; the value of one of
# these is not a test path (``-c /dev/null``, ``--rootdir DIR``)
# fmt: off
_VALUE_OPTIONS = frozenset({
    "-c", "--config-file", "--rootdir", "--basetemp", "--confcutdir", "-k", "-m", "-p", "-o",
    "--override-ini", "-W", "--pythonwarnings", "--tb", "--junitxml", "--junit-xml",
    "--junit-prefix", "--report-log", "--ignore", "--ignore-glob", "--deselect", "--import-mode",
    "--maxfail", "--durations", "--durations-min", "--log-level", "--log-cli-level", "--log-file",
    "--log-format", "--timeout", "--capture", "-r", "--color", "--code-highlight", "--debug",
    "-n", "--numprocesses", "--reruns", "--json-report-file", "--cov", "--cov-report",
    "--cov-config",
})
# fmt: on


@dataclass(frozen=True)
class RerunTarget:
    """One failed test and where pytest finds it.

    ``nodeid`` is what goes on the pytest command line (relative to the run's
    working directory when the file is under it, else absolute); ``file`` the
    resolved test file and ``rest`` the node id parts after it (class, function).
    """

    test_id: str
    nodeid: str
    file: Path
    rest: tuple[str, ...]


def split_pytest_args(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split pytest arguments into (options, paths).

    Paths are the positional arguments: neither an option nor the value of an
    option known to take one (``-c FILE``, ``--rootdir DIR``, ``-k EXPR``...).
    """
    options: list[str] = []
    paths: list[str] = []
    takes_value = False
    for arg in args:
        if takes_value:
            options.append(arg)
            takes_value = False
        elif arg.startswith("-") and arg != "-":
            options.append(arg)
            takes_value = arg in _VALUE_OPTIONS
        else:
            paths.append(arg)
    return options, paths


def _option_value(options: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(options):
        if arg == name and i + 1 < len(options):
            return options[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _bases(rootdir: Path, options: Sequence[str], paths: Sequence[str]) -> list[Path]:
    """Folders node ids may be relative to: rootdir, a --rootdir, the paths given."""
    bases = [rootdir]
    given = _option_value(options, "--rootdir")
    for item in [*([given] if given else []), *paths]:
        path = (rootdir / item.split("::")[0]).resolve()
        bases.append(path if path.is_dir() else path.parent)
    return list(dict.fromkeys(bases))


def _candidates(test_id: str, classname: str, name: str) -> list[tuple[str, tuple[str, ...]]]:
    """(relative file, rest of the node id) pairs a test may be, most likely first."""
    out: list[tuple[str, tuple[str, ...]]] = []
    if "::" in test_id:
        path, *rest = test_id.split("::")
        if path.endswith(".py"):
            out.append((path, tuple(rest)))
    elif test_id.endswith(".py"):  # a module that failed to collect
        out.append((test_id, ()))
    parts = [p for p in classname.split(".") if p]
    for i in range(len(parts), 0, -1):  # JUnit: a.b.test_mod.TestClass -> a/b/test_mod.py
        out.append(("/".join(parts[:i]) + ".py", (*parts[i:], name)))
    return out


def resolve_targets(
    failures: pd.DataFrame, *, rootdir: Path, pytest_args: Sequence[str] = ()
) -> tuple[list[RerunTarget], list[str]]:
    """Find the test file of every failed test; return (targets, warnings for those not found).

    ``failures`` holds ``test_id`` and, where known, ``classname`` and ``name``.
    """
    options, paths = split_pytest_args(pytest_args)
    bases = _bases(rootdir.resolve(), options, paths)
    targets: list[RerunTarget] = []
    missing: list[str] = []
    for row in failures.itertuples(index=False):
        test_id = str(row.test_id)
        found = None
        for rel, rest in _candidates(
            test_id, str(getattr(row, "classname", "") or ""), str(getattr(row, "name", "") or "")
        ):
            for base in bases:
                if (base / rel).is_file():
                    found = ((base / rel).resolve(), rest)
                    break
            if found:
                break
        if found is None:
            missing.append(test_id)
            continue
        file, rest = found
        try:
            shown = file.relative_to(rootdir.resolve()).as_posix()
        except ValueError:
            shown = str(file)
        targets.append(RerunTarget(test_id, "::".join([shown, *rest]), file, rest))
    warnings = []
    if missing:
        where = ", ".join(str(b) for b in bases)
        warnings.append(
            f"{len(missing)} failed test(s) not found under {where} and not rerun "
            f"(e.g. {missing[0]}); give the directory their node ids are relative to "
            "with --rootdir"
        )
    return targets, warnings


def rerun_command(
    nodeids: Sequence[str], *, report_log: Path, pytest_args: Sequence[str] = ()
) -> list[str]:
    """The pytest command line of one rerun: the node ids, then our options, then the user's."""
    options, _paths = split_pytest_args(pytest_args)
    return [
        sys.executable,
        "-m",
        "pytest",
        *nodeids,
        "-p",
        "no:cacheprovider",
        "--report-log",
        str(report_log),
        *options,
    ]


def _tail(text: str, lines: int = 8) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return " | ".join(kept) if kept else "(no output)"


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout_s: float) -> tuple[int, str]:
    """Run one pytest process in its own session; kill the session when it overruns.

    Returns (exit status, or -1 after a timeout; the output's tail).
    """
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        return proc.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        # the whole session: a test may have started servers of its own
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return -1, out.decode("utf-8", "replace")


def _read_attempt(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The executions one attempt's report-log holds, with signatures."""
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=["test_id", "outcome"]), []
    with path.open("rb") as stream:
        parsed = parse_reportlog(stream, str(path))
    # what the tests printed may hold secrets, as in every other ingest path
    df = redact_frame(to_frame(parsed, str(path)), ["message", "details", "stdout", "stderr"])
    df["signature"], _texts = signatures(df)
    # a test cut off mid-run (no teardown) only counts if it had already failed:
    # its setup alone would read as a pass
    cut = {
        w.split(": ", 1)[1].split(" has no teardown", 1)[0]
        for w in parsed.warnings
        if " has no teardown" in w
    }
    if cut:
        df = df[~(df["test_id"].isin(cut) & ~df["outcome"].astype(str).isin(["failed", "error"]))]
    return df, [
        redact_text(w)
        for w in parsed.warnings
        if "SessionFinish" not in w and " has no teardown" not in w
    ]


def _parts(path: str) -> tuple[str, ...]:
    return tuple(p for p in Path(path).parts if p not in ("..", "."))


def _match(targets: Sequence[RerunTarget], executions: pd.DataFrame) -> dict[str, dict]:
    """Map each target's test_id to the execution that reports it.

    Matched on the node id after the file (class, function) and the file's
    trailing path parts, since the rerun's node ids are relative to its own
    rootdir. A module target (a collection error) takes its worst test; a
    module that fails to collect fails every test in it.
    """
    by_rest: dict[tuple[str, ...], list[RerunTarget]] = {}
    for target in targets:
        by_rest.setdefault(target.rest, []).append(target)
    modules = by_rest.get((), [])
    found: dict[str, dict] = {}
    collect_errors: list[tuple[tuple[str, ...], dict]] = []
    for row in executions.to_dict("records"):
        path, *rest = str(row["test_id"]).split("::")
        tail = _parts(path)
        if not tail:
            continue
        if not rest:
            collect_errors.append((tail, row))
        for target in by_rest.get(tuple(rest), []) if rest else []:
            if target.file.parts[-len(tail) :] == tail:
                found.setdefault(target.test_id, row)
        for target in modules:
            if target.file.parts[-len(tail) :] != tail:
                continue
            failing = str(row["outcome"]) in ("failed", "error")
            if target.test_id not in found or failing or not rest:
                found[target.test_id] = row
    for tail, row in collect_errors:
        for target in targets:
            if target.test_id not in found and target.file.parts[-len(tail) :] == tail:
                found[target.test_id] = row
    return found


def rerun_failures(
    tests_df: pd.DataFrame,
    *,
    times: int = 3,
    rootdir: str | os.PathLike[str] | None = None,
    pytest_args: Sequence[str] = (),
    timeout_s: float = RERUN_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rerun the failed tests of ``tests_df`` ``times`` times; one row per test per attempt.

    ``rootdir`` is the directory the run's node ids are relative to and
    pytest's working directory (default: the current one); pytest is given
    ``--rootdir`` with it unless ``pytest_args`` has its own. ``pytest_args``
    are added to every run (``["-c", "/dev/null"]``); paths among them only
    say where to look for the tests. ``env`` adds variables to this process's
    environment for the runs. Each run (every failed test once) is killed
    after ``timeout_s``; the tests it finished still count.

    Returns a frame with the columns of :data:`~whyloop.analyze.flaky.RERUN_COLUMNS`
    (``test_id`` as in ``tests_df``, ``attempt`` from 1, ``outcome``,
    ``duration_s``, ``message``, ``signature``, ``nodeid`` run); an attempt
    that gave no result for a test has no row. ``df.attrs["warnings"]`` lists
    tests not found, runs that timed out, and the like. Raises ConfigError
    when ``times`` < 1, when no failed test can be found, or when pytest
    could not run at all (usage error; the message ends with its output).
    """
    if times < 1:
        raise ConfigError(f"--times must be at least 1, got {times}")
    base = Path(rootdir) if rootdir is not None else Path.cwd()
    if not base.is_dir():
        raise ConfigError("rootdir is not a directory", path=str(base))
    failures = failures_to_rerun(tests_df)
    warnings: list[str] = []
    frame = pd.DataFrame(columns=list(RERUN_COLUMNS))
    if failures.empty:
        frame.attrs["warnings"] = ["no failed tests to rerun"]
        return frame
    targets, missing = resolve_targets(failures, rootdir=base, pytest_args=pytest_args)
    warnings += missing
    if not targets:
        raise ConfigError(missing[0])
    args = list(pytest_args)
    if _option_value(split_pytest_args(args)[0], "--rootdir") is None:
        args += ["--rootdir", str(base.resolve())]
    run_env = {**os.environ, **(env or {})}
    rows: list[dict] = []
    nodeids = list(dict.fromkeys(t.nodeid for t in targets))
    with tempfile.TemporaryDirectory(prefix="whyloop-rerun-") as tmp:
        for attempt in range(1, times + 1):
            log = Path(tmp) / f"attempt-{attempt}.jsonl"
            cmd = rerun_command(nodeids, report_log=log, pytest_args=args)
            status, output = _run(cmd, cwd=base, env=run_env, timeout_s=timeout_s)
            try:
                executions, notes = _read_attempt(log)
            except IngestError:
                executions, notes = pd.DataFrame(columns=["test_id", "outcome"]), []
            warnings += [f"attempt {attempt}: {n}" for n in notes]
            if status == -1:
                warnings.append(f"attempt {attempt}: killed after {timeout_s:g} s")
            if executions.empty and status not in (0, 1, -1):
                raise ConfigError(
                    f"pytest exited with status {status} and ran nothing: {redact_text(_tail(output))}"
                )
            found = _match(targets, executions)
            for target in targets:
                row = found.get(target.test_id)
                if row is None:
                    continue
                rows.append(
                    {
                        "test_id": target.test_id,
                        "attempt": attempt,
                        "outcome": str(row["outcome"]),
                        "duration_s": float(row.get("duration_s") or 0.0),
                        "message": str(row.get("message") or ""),
                        "signature": str(row.get("signature") or ""),
                        "nodeid": target.nodeid,
                    }
                )
    if rows:
        frame = pd.DataFrame(rows, columns=list(RERUN_COLUMNS))
    frame["attempt"] = frame["attempt"].astype("int64")
    frame["duration_s"] = frame["duration_s"].astype("float64")
    frame.attrs["warnings"] = warnings
    return frame
