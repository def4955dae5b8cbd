"""``whyloop probe http`` and ``probe suite``: the --json shape, exit statuses, help, no secret out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import free_port
from tests.support.servers import (
    SECRET_TOKEN,
    certificate,
    local_app,
    serve_app,
    throwaway_ca,
)
from whyloop.cli import main
from whyloop.cli.probe import EXAMPLES


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serve_app(local_app()) as url:
        yield url


def cli(argv: list[str]) -> int:
    """``whyloop probe ...`` through the real CLI; argparse's exits become their status."""
    try:
        return main(["probe", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)


@pytest.mark.parametrize("command", ["http", "suite"])
def test_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "example: whyloop probe " + command in out
    assert EXAMPLES[command] in out


def test_json_shape_and_exit_zero(app_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        ["http", app_url + "/ok", "--json", "--expect-status", "200", "--expect-json", "status=ok"]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data) == {"target", "kind", "ok", "failed_stage", "stages", "diagnosis", "evidence"}
    assert data["kind"] == "http" and data["ok"] is True and data["failed_stage"] is None
    assert [s["name"] for s in data["stages"]] == [
        "dns",
        "tcp",
        "request",
        "first_byte",
        "body",
        "expect",
    ]
    assert all(set(s) == {"name", "ok", "ms", "detail"} for s in data["stages"])


def test_failed_stage_exits_one(app_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["http", app_url + "/ok", "--expect-status", "201"]) == 1
    out = capsys.readouterr().out
    assert "FAILED at expect" in out and "expected status 201, got 200" in out
    port = free_port()
    assert cli(["http", f"http://127.0.0.1:{port}/", "--json", "--timeout", "2"]) == 1
    assert json.loads(capsys.readouterr().out)["failed_stage"] == "tcp"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "{not json"], "--data is not valid JSON"),
        (["--header", "NoColon"], "--header 'NoColon' is not of the form Name:Value"),
        (["--token-env", "WHYLOOP_SURELY_UNSET_VAR"], "--token-env: $WHYLOOP_SURELY_UNSET_VAR is"),
        (["--expect-json", "nothing"], "--expect-json: expected PATH=VALUE"),
        (["--timeout", "0"], "--timeout must be positive"),
        (["--max-redirects", "-1"], "--max-redirects must be >= 0"),
        (["--method"], "expected one argument"),
    ],
)
def test_bad_arguments_exit_two(
    app_url: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["http", app_url + "/ok", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 or "usage:" in err


def test_refused_host_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["http", "ftp://127.0.0.1/"]) == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_no_unredacted_token_in_any_output(
    app_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHYLOOP_TEST_TOKEN", SECRET_TOKEN)
    url = f"{app_url}/echo?access_token={SECRET_TOKEN}"
    for extra in (["--json"], []):
        code = cli(
            [
                "http",
                url,
                "--token-env",
                "WHYLOOP_TEST_TOKEN",
                "--header",
                f"Cookie: sid={SECRET_TOKEN}",
                "--origin",
                "http://app.example",
                *extra,
            ]
        )
        out, err = capsys.readouterr()
        assert code == 0, out
        assert SECRET_TOKEN not in out + err
        assert SECRET_TOKEN[12:40] not in out + err
    # the echoed Authorization did reach the body, only redacted
    assert "eyJh..." in out


def test_an_unreadable_suite_file_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.yaml"
    assert cli(["suite", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("whyloop: ") and "missing.yaml" in err and err.count("\n") == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("probes: [unclosed\n")
    assert cli(["suite", str(broken)]) == 1
    assert "broken.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--var", "NOEQUALS"], "--var 'NOEQUALS' is not of the form NAME=VALUE"),
        (["--loop", "../up"], "invalid loop name"),
        (["--loop", "ok", "--iteration", "a/b"], "invalid iteration name"),
    ],
)
def test_suite_arguments_are_checked_before_any_traffic(
    app_url: str, tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(
        f"targets: {{app: '{app_url}'}}\n"
        "probes: [{name: ok, kind: http, target: app, path: /ok}]\n"
    )
    code = cli(["suite", str(suite), "--store", str(tmp_path / "store"), *argv])
    assert code in (1, 2) and message in capsys.readouterr().err
    assert code == (2 if argv[0] == "--var" else 1)
    assert not (tmp_path / "store").exists()


def test_suite_saves_where_asked_and_says_so(
    app_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(
        f"name: local\ntargets: {{app: '{app_url}'}}\n"
        "probes: [{name: ok, kind: http, target: app, path: /ok, expect_status: 200}]\n"
    )
    store = tmp_path / "store"
    argv = ["suite", str(suite), "--store", str(store), "--loop", "l", "--iteration", "7"]
    assert cli(argv) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(f"failed; stored in {store / 'l' / '7'}")
    assert out.startswith("ok   ok/probe: total_ms=")
    from whyloop.store import Store

    manifest = Store(store).manifest("l", "7")
    assert manifest["tables"]["probes"]["sources"] == [str(suite)]
    assert cli([*argv, "--json", "--replace"]) == 0  # iteration 7 holds probes already
    assert json.loads(capsys.readouterr().out)["stored"] == str(store / "l" / "7")


def test_refused_certificate_prints_the_certificate_and_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    cert = certificate(
        tmp_path,
        names=("DNS:api.example",),
        not_before=now - timedelta(days=20),
        not_after=now - timedelta(days=2),
        ca=throwaway_ca(tmp_path / "ca"),
    )
    with serve_app(local_app(), tls=cert) as url:
        assert cli(["http", url + "/ok", "--timeout", "5"]) == 1
        out = capsys.readouterr().out
        assert cli(["http", url + "/ok", "--timeout", "5", "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
    assert "FAILED at tls" in out
    assert "certificate (read without verification): subject CN=localhost" in out
    assert "issuer CN=whyloop throwaway CA" in out and "names DNS:api.example" in out
    problems = [line.strip() for line in out.splitlines() if line.strip().startswith("problem: ")]
    assert len(problems) == 3
    assert "unknown issuer" in problems[0] and "not issued for 127.0.0.1" in problems[1]
    assert problems[2].startswith("problem: expired: notAfter")
    assert data["failed_stage"] == "tls"
    tls = next(s for s in data["stages"] if s["name"] == "tls")
    assert tls["detail"]["verify_code"] == 20 and len(tls["detail"]["problems"]) == 3
    assert all(p in data["diagnosis"] for p in tls["detail"]["problems"])


def test_loop_and_retry_after_reach_the_output(
    app_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["http", app_url + "/loop-a"]) == 1
    out = capsys.readouterr().out
    assert "FAILED at expect" in out
    assert f"redirect loop: {app_url}/loop-a -> {app_url}/loop-b -> {app_url}/loop-a" in out
    assert cli(["http", app_url + "/chain/3", "--max-redirects", "1", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["diagnosis"].startswith("too many redirects: 1")
    assert cli(["http", app_url + "/busy", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert "its Retry-After: 120 asks to wait 120 s" in data["diagnosis"]
    assert "retry-after: 120" in data["evidence"]
