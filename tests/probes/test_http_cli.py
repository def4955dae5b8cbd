"""``whyloop probe http``: the --json shape, exit statuses, help, and no secret in any output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import pytest

from whyloop.cli_probe_http import EXAMPLES, add_parsers

from ._http_support import SECRET_TOKEN, free_port, local_app, serve_app


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    with serve_app(local_app()) as url:
        yield url


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whyloop probe")
    add_parsers(p.add_subparsers(dest="what", required=True))
    return p


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))


@pytest.mark.parametrize("command", ["http", "suite"])
def test_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parser().parse_args([command, "--help"])
    assert done.value.code == 0
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
        (["--header", "NoColon"], "is not of the form Name:Value"),
        (["--token-env", "WHYLOOP_SURELY_UNSET_VAR"], "is not set"),
        (["--expect-json", "nothing"], "expected PATH=VALUE"),
        (["--timeout", "0"], "timeout must be positive"),
    ],
)
def test_bad_arguments_exit_two(
    app_url: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["http", app_url + "/ok", *argv]) == 2
    assert message in capsys.readouterr().err


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
    assert "eyJhbGci..." in out
