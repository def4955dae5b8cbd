"""The CLI translates arguments into one library call; these check exactly that, in-process."""

import json
import shutil

import pytest

from tests.support import FIXTURES
from whyloop.cli import main
from whyloop.errors import IngestError
from whyloop.sandbox import SAMPLE
from whyloop.store import Store

REPORTLOG = FIXTURES / "tests" / "reportlog.jsonl"


def test_ingest_tests_json_summary_has_the_documented_keys(capsys):
    assert main(["ingest", "tests", str(REPORTLOG), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "total",
        "passed",
        "failed",
        "errors",
        "skipped",
        "pass_rate",
        "duration_s",
        "by_category",
        "files",
        "warnings",
    ):
        assert key in out
    assert out["total"] == 8 and out["failed"] == 1 and out["errors"] == 1
    assert out["executions"] == 9 and out["flaky"] == 1
    assert out["files"][0]["format"] == "pytest-reportlog"


def test_ingest_tests_human_summary_and_store(tmp_path, capsys):
    code = main(["ingest", "tests", str(REPORTLOG), "--loop", "ci", "--store", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "tests: 8" in out and "by category:" in out and "saved:" in out
    assert len(Store(tmp_path).read("ci", "1", "tests")) == 9


def test_unusable_input_is_one_line_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"")
    assert main(["ingest", "tests", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("whyloop: ") and str(bad) in err and err.count("\n") == 1


def test_keep_going_skips_the_bad_file_keeps_the_good(tmp_path, capsys):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<not-a-result/>")
    shutil.copy(REPORTLOG, tmp_path / "good.jsonl")
    assert main(["ingest", "tests", str(tmp_path), "--keep-going", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 8
    assert any("bad.xml" in w and "unsupported format" in w for w in out["warnings"])


def test_missing_path_and_bad_arguments(capsys):
    assert main(["ingest", "tests", "/nonexistent/r.xml"]) == 1
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "tests"])
    assert exit_.value.code == 2


def test_offline_demo_saves_an_iteration_and_prints_the_groups(tmp_path, capsys):
    assert main(["demo", "--offline", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "25 tests: 15 passed, 10 failed" in out
    assert "3 x TimeoutError: timed out after <n> s waiting for connection_established" in out
    assert "database is locked" in out
    assert Store(tmp_path).iterations("demo") == ["1"]


def test_fingerprint_rules_file_groups_what_the_user_says_is_one_cause(tmp_path, capsys):
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuite name="s" tests="2">'
        '<testcase classname="c" name="a"><failure message="tenant acme: quota exceeded"/></testcase>'
        '<testcase classname="c" name="b"><failure message="tenant globex: quota exceeded"/></testcase>'
        "</testsuite>"
    )
    rules = tmp_path / "fp.yaml"
    rules.write_text("- pattern: 'tenant \\w+'\n  replace: 'tenant <tenant>'\n")
    store = tmp_path / "store"
    argv = ["ingest", "tests", str(xml), "--loop", "l", "--store", str(store), "--json"]
    assert main([*argv, "--fingerprint-rules", str(rules)]) == 0
    tests = Store(store).read("l", "1", "tests")
    assert tests["signature"].nunique() == 1
    assert tests["signature_text"][0] == "tenant <tenant>: quota exceeded"
    rules.write_text("- replace: x\n")
    capsys.readouterr()
    assert main([*argv, "--fingerprint-rules", str(rules)]) == 1
    assert "fp.yaml: rule 1 has no 'pattern'" in capsys.readouterr().err


def test_sandbox_faults_up_e2e_down_through_the_cli(tmp_path, capsys):
    assert main(["sandbox", "faults"]) == 0
    listing = capsys.readouterr().out
    assert "ws-no-welcome" in listing and "db-locked" in listing
    state = str(tmp_path / "sb")
    assert main(["sandbox", "up", "--fault", "rate-limit-off", "--state-dir", state]) == 0
    try:
        assert "ws       ws://127.0.0.1:" in capsys.readouterr().out
        report = tmp_path / "report.jsonl"
        code = main(
            ["sandbox", "e2e", "--state-dir", state, "--report-log", str(report), "--", "-q"]
        )
        assert code == 1  # the rate-limit test fails, nothing else
        failed = whyloop_failed(report)
        assert failed == ["test_resilience.py::test_rate_limiting"]
    finally:
        assert main(["sandbox", "down", "--state-dir", state]) == 0
    assert "stopped: auth, backend" in capsys.readouterr().out
    assert main(["sandbox", "e2e", "--state-dir", state]) == 1
    assert "no sandbox running here" in capsys.readouterr().err


def whyloop_failed(report):
    import whyloop

    tests = whyloop.read_tests(report)
    return sorted(tests.loc[tests.outcome == "failed", "test_id"])


def test_findings_command_explains_a_stored_iteration(tmp_path, capsys):
    assert main(["demo", "--offline", "--store", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["findings", "--loop", "demo", "--store", str(tmp_path), "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)
    stages = {f["stage"] for f in findings}
    assert {"welcome", "expect"} <= stages
    lock = next(f for f in findings if f["stage"] == "expect")
    assert "database is locked" in " ".join(lock["evidence"])
    assert len(Store(tmp_path).read("demo", "1", "findings")) == len(findings)
    assert main(["findings", "--loop", "nope", "--store", str(tmp_path)]) == 1


def test_ingest_logs_summary_store_and_bad_source(tmp_path, capsys):
    sample = SAMPLE / "logs"
    argv = ["ingest", "logs", str(sample / "*.jsonl"), "--json", "--loop", "l"]
    assert main([*argv, "--store", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] > 100 and set(out["by_service"]) == {"backend", "auth"}
    assert out["by_level"]["ERROR"] > 0
    logs = Store(tmp_path).read("l", "1", "logs")
    assert str(logs["timestamp"].dt.tz) == "UTC" and "httpRequest.status" in logs
    assert main(["ingest", "logs", str(tmp_path / "missing.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("whyloop: ") and "missing.jsonl" in err and err.count("\n") == 1


def test_a_library_error_naming_its_parameter_exits_2_naming_the_flag(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise IngestError("max_bytes must be at least 1, not 0", param="max_bytes")

    monkeypatch.setattr("whyloop.ingest.logs.read.read_logs", refuse)
    assert main(["ingest", "logs", "x.jsonl", "--max-bytes", "0"]) == 2
    assert capsys.readouterr().err == "whyloop: --max-bytes must be at least 1, not 0\n"


def test_a_positional_parameter_is_named_as_in_the_usage(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise IngestError("paths is empty", param="paths")

    monkeypatch.setattr("whyloop.pull.read_results", refuse)
    assert main(["ingest", "tests", "x.xml"]) == 2
    assert capsys.readouterr().err == "whyloop: PATH is empty\n"


def test_ingest_logs_without_any_source_is_a_bad_argument(capsys):
    assert main(["ingest", "logs"]) == 2
    err = capsys.readouterr().err
    assert err == "whyloop: give a SOURCE, --command or --url\n"


def test_store_list_text_and_json(tmp_path, capsys):
    assert main(["store", "list", "--store", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no iterations under {tmp_path}\n"
    assert main(["ingest", "tests", str(REPORTLOG), "--loop", "ci", "--store", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["store", "list", "--store", str(tmp_path)]) == 0
    # the files table (a row per result file) is kept beside the tests
    assert capsys.readouterr().out == "ci:\n  1: files 1 rows, tests 9 rows\n"
    assert main(["store", "list", "--store", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ci": {"1": {"files": 1, "tests": 9}}}


def test_store_default_is_the_library_default():
    from whyloop.cli import build_parser
    from whyloop.store import DEFAULT_ROOT

    args = build_parser().parse_args(["findings", "--loop", "l"])
    assert args.store == str(DEFAULT_ROOT)


def test_findings_text_names_the_latest_iteration(tmp_path, capsys):
    assert main(["demo", "--offline", "--store", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["findings", "--loop", "demo", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("iteration 1 of loop 'demo': ")
    assert "\n\n1. [" in out and "database is locked" in out


def test_interrupt_exits_130_and_a_closed_pipe_0(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def closed(*args, **kwargs):
        raise BrokenPipeError

    monkeypatch.setattr("whyloop.pull.read_results", interrupted)
    assert main(["ingest", "tests", "x.xml"]) == 130
    assert capsys.readouterr().err == "whyloop: interrupted\n"
    monkeypatch.setattr("whyloop.pull.read_results", closed)
    assert main(["ingest", "tests", "x.xml"]) == 0


def test_importing_the_cli_loads_no_network_library():
    import subprocess
    import sys

    code = (
        "import sys, whyloop.cli; "
        "print(sorted(m for m in ('httpx', 'websockets', 'aiohttp') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
