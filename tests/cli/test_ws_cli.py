"""``whyloop probe ws``: argument translation, exit statuses, output shape and redaction."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support import free_port
from tests.support.sandbox import OK_S, login, sandbox
from whyloop import cli
from whyloop.cli.probe import EXAMPLES
from whyloop.probes.ws.probe import probe_many, results_frame
from whyloop.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(scope="module")
def token(box: Sandbox) -> str:
    return login(box)


def main(argv: list[str]) -> int:
    """``whyloop probe ws ...`` through the real CLI; argparse errors become their exit status."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_json_ok_with_auth_matrix(box, token, capsys, monkeypatch):
    monkeypatch.setenv("PROBE_TOKEN", token)
    argv = ["probe", "ws", box.ws_url, "--token-env", "PROBE_TOKEN", "--auth", "auto", "--json"]
    assert main([*argv, "--timeout", str(OK_S)]) == 0
    out = capsys.readouterr().out
    assert token not in out and token[:20] not in out
    data = json.loads(out)
    assert set(data) >= {
        "target",
        "ok",
        "failed_stage",
        "stages",
        "auth_matrix",
        "diagnosis",
        "evidence",
    }
    assert data["ok"] is True and data["failed_stage"] is None
    assert [s["name"] for s in data["stages"]][-1] == "close"
    assert all({"name", "ok", "ms", "detail"} <= set(s) for s in data["stages"])
    auth = {r["method"]: r["accepted"] for r in data["auth_matrix"]}
    assert auth == {"none": False, "header": True, "subprotocol": True, "query": False}
    headers = next(s for s in data["stages"] if s["name"] == "upgrade")["detail"]["request_headers"]
    assert headers["Authorization"].startswith("Bearer") and headers["Authorization"].endswith(
        "..."
    )


def test_human_output_is_a_table_and_redacted(box, token, capsys):
    argv = ["probe", "ws", box.ws_url, "--token", token, "--auth", "subprotocol"]
    assert main([*argv, "--timeout", str(OK_S), "--send", '{"type": "nope"}']) == 0
    out = capsys.readouterr().out
    assert token not in out and token[:20] not in out
    assert "✓ upgrade" in out and "✓ close" in out and "ok: The WebSocket works" in out
    assert "jwt." in out
    assert "answered with an error" in out  # the unknown message type got an error reply


def test_failed_stage_exits_1_and_names_it(box, token, capsys):
    argv = ["probe", "ws", box.ws_url, "--token", token, "--auth", "query", "--json"]
    assert main([*argv, "--timeout", str(OK_S)]) == 1
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["failed_stage"] == "auth" and f"token={token[:9]}" not in json.dumps(data)
    assert token not in out


def test_closed_port_human_output(capsys):
    url = f"ws://127.0.0.1:{free_port()}/ws"
    assert main(["probe", "ws", url, "--timeout", str(OK_S)]) == 1
    out = capsys.readouterr().out
    assert "✗ tcp" in out and "FAILED at tcp: Nothing is listening" in out


@pytest.mark.parametrize(
    "extra",
    [
        ["http://127.0.0.1:1/ws"],
        ["ws://127.0.0.1:1/ws", "--header", "no-colon"],
        ["ws://127.0.0.1:1/ws", "--header", "Host: evil.example"],
        ["ws://127.0.0.1:1/ws", "--send-binary", "not hex"],
        ["ws://127.0.0.1:1/ws", "--cookie", "no-equals"],
        ["ws://127.0.0.1:1/ws", "--cookie-env", "sid=WHYLOOP_TEST_UNSET_VAR"],
        ["ws://127.0.0.1:1/ws", "--expect-reply", "re:("],
        ["ws://127.0.0.1:1/ws", "--subprotocol", "bad name"],
        ["ws://127.0.0.1:1/ws", "--auth", "subprotocol"],
        ["ws://127.0.0.1:1/ws", "--auth", "sometimes"],
        ["ws://127.0.0.1:1/ws", "--timeout", "0"],
        ["ws://127.0.0.1:1/ws", "--token", "x", "--subprotocol-format", "jwt"],
        ["ws://127.0.0.1:1/ws", "--token-env", "WHYLOOP_TEST_UNSET_VAR"],
    ],
)
def test_bad_arguments_exit_2(extra, capsys):
    assert main(["probe", "ws", *extra]) == 2
    err = capsys.readouterr().err
    assert err.strip(), "no message on stderr"


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--timeout", "0"], "--timeout"),
        (["--header", "no-colon"], "--header"),
        (["--send", "{token}"], "--send"),
        (["--send-binary", "zz"], "--send-binary"),
        (["--cookie", "sid"], "--cookie"),
        (["--cookie-env", "sid"], "--cookie-env"),
        (["--subprotocol", "a b"], "--subprotocol"),
        (["--reject", "re:["], "--reject"),
        (["--token", "x", "--subprotocol-format", "jwt"], "--subprotocol-format"),
        (["--token-env", "WHYLOOP_TEST_UNSET_VAR"], "--token-env"),
    ],
)
def test_a_bad_option_is_one_line_naming_the_flag(extra, flag, capsys):
    assert main(["probe", "ws", "ws://127.0.0.1:1/ws", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("whyloop: ") and err.count("\n") == 1 and flag in err


def test_bad_argument_messages_do_not_echo_the_token(capsys):
    secret = "s3cr3t-opaque-credential-value"
    assert main(["probe", "ws", f"http://h/ws?token={secret}"]) == 2
    assert secret not in capsys.readouterr().err


def test_help_has_the_example(capsys):
    assert main(["probe", "ws", "--help"]) == 0
    assert EXAMPLES["ws"] in capsys.readouterr().out


def test_probe_many_and_the_frame(box, token):
    import asyncio

    targets = [{"url": box.ws_url, "token": token, "auth": "header", "timeout": OK_S}] * 3
    targets.append({"url": f"ws://127.0.0.1:{free_port()}/ws", "timeout": OK_S})
    results = asyncio.run(probe_many(targets, concurrency=2))
    assert [r.ok for r in results] == [True, True, True, False]
    frame = results_frame(results)
    assert len(frame) == 3 * 8 + 2
    assert set(frame.loc[~frame["stage_ok"], "stage"]) == {"tcp"}
    assert (
        not frame.astype(str)
        .apply(lambda col: col.str.contains(token[:20], regex=False))
        .any()
        .any()
    )


def test_the_new_flags_translate_into_one_call_in_order(monkeypatch, capsys):
    import whyloop.probes

    seen: dict = {}

    def fake(url, **options):
        seen.update(options, url=url)
        from whyloop.results import ProbeResult

        return ProbeResult(target=url, kind="ws", diagnosis="stub")

    monkeypatch.setattr(whyloop.probes, "probe_ws", fake)
    monkeypatch.setenv("WHYLOOP_TEST_SESSION", "s3ss10n")
    argv = ["probe", "ws", "ws://127.0.0.1:1/graphql", "--subprotocol", "graphql-transport-ws"]
    argv += ["--send", "init", "--send-binary", "00ff", "--send", "go", "--client-first"]
    argv += ["--cookie", "a=1", "--cookie-env", "session=WHYLOOP_TEST_SESSION"]
    argv += ["--expect-reply", "next", "--reject", "connection_error", "--reject", "re:^44"]
    assert main(argv) == 0
    assert seen["send"] == ["init", b"\x00\xff", "go"]
    assert seen["subprotocols"] == ["graphql-transport-ws"] and seen["client_first"] is True
    assert seen["cookies"] == ["a=1", "session=s3ss10n"]
    assert seen["expect_reply"] == "next" and seen["reject"] == ["connection_error", "re:^44"]
    assert "expect_first" not in seen  # the library's default (none with client_first)
    capsys.readouterr()


def test_the_matrix_table_says_each_rows_outcome(box, token, capsys):
    argv = ["probe", "ws", box.ws_url.replace("/ws", "/nowhere"), "--token", token]
    assert main([*argv, "--auth", "auto", "--timeout", str(OK_S)]) == 1
    out = capsys.readouterr().out
    table = out.split("auth matrix:")[1].split("\n\n")[0]
    assert [line.split()[:2] for line in table.strip().splitlines()] == [
        ["none", "refused"], ["header", "refused"], ["subprotocol", "refused"], ["query", "refused"]
    ]  # fmt: skip
    # every attempt got the same 403: the probe says it cannot tell path from credential
    assert "Every attempt got HTTP 403" in out and "the matrix cannot tell which" in out
    assert token not in out
