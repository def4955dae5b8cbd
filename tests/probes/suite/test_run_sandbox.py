"""Suites against the real sandbox: a clean run, faults showing, the store, the CLI, secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

from tests.support import JWT_RE, TIMEOUT_SCALE
from tests.support.sandbox import sandbox as _sandbox
from whyloop import sandbox as bundled
from whyloop.cli import main
from whyloop.errors import ProbeError
from whyloop.probes.suite.run import COLUMNS, run_suite
from whyloop.sandbox import Sandbox
from whyloop.store import Store

SMALL_LOAD = {"WHYLOOP_LOAD_USERS": "10", "WHYLOOP_LOAD_REQUESTS": "10"}


def sandbox(state_dir, faults=()):
    # a 2 s rate window, so that Retry-After waits stay short
    return _sandbox(state_dir, faults, rate_window_s=2.0)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with sandbox(tmp_path_factory.mktemp("suite-sandbox")) as running:
        yield running


def variables(user: str, **extra: str) -> dict[str, str]:
    # a user per run: the rate-limit burst spends its user's budget for a window
    return {"WHYLOOP_PROBE_USER": user, **SMALL_LOAD, **extra}


def token_for(box: Sandbox, user: str) -> str:
    answer = httpx.post(
        box.auth_url + "/auth/login",
        json={"username": user, "password": "whyloop-probe-password"},
        timeout=10 * TIMEOUT_SCALE,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def failed(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["ok"]]


def cli(argv: list[str]) -> int:
    return main(["probe", *argv])


def test_bundled_suite_passes_without_faults_and_is_stored(box: Sandbox, tmp_path: Path) -> None:
    store = tmp_path / "iterations"
    values = {**variables("suite-clean"), **bundled.suite_variables(box.state_dir)}
    df = run_suite(bundled.SUITE, variables=values)
    Store(store).write("staging", 1, probes=df)
    assert list(df.columns) == COLUMNS
    assert failed(df).empty, failed(df)[["probe", "check", "diagnosis"]].to_string()
    probes = set(df["probe"])
    assert {"backend-health", "health-load", "errors", "resilience", "rate-limit"} <= probes
    # error bodies show no stack trace or internals, and traversal is refused
    leak = df[df["check"] == "no_internal_detail"].iloc[0]
    assert leak["value"] == 0 and json.loads(leak["detail"])["bodies_checked"] >= 5
    assert (df[df["check"].str.startswith("traversal")]["value"] == 403).all()
    limited = df[df["check"] == "limited"].iloc[0]
    assert 1 <= limited["value"] <= 60
    assert df[df["check"] == "honoured"].iloc[0]["value"] == 200
    # stored, and read back as written
    back = Store(store).read("staging", 1, "probes")
    assert list(back.columns) == COLUMNS and len(back) == len(df)
    pd.testing.assert_series_equal(back["ok"], df["ok"], check_names=False)
    assert back["started"].dt.tz is not None
    for path in (store / "staging" / "1").iterdir():
        assert not JWT_RE.search(path.read_bytes().decode("latin-1")), path.name


def test_load_probe_reports_the_client_ceiling(box: Sandbox) -> None:
    suite = {
        "targets": {"backend": box.backend_url},
        "probes": [
            {
                "name": "load",
                "kind": "load",
                "path": "/health",
                "users": 10,
                "requests_per_user": 5,
                "max_seconds": 10,
                "sla": {"p95_ms": 2000, "success_rate": 1.0},
            }
        ],
    }
    df = run_suite(suite, variables={})
    by = df.set_index("metric")
    assert by.loc["success_rate", "ok"] and by.loc["success_rate", "value"] == 1.0
    assert by.loc["client_ceiling_rps", "value"] > 0
    for detail in df["detail"].map(json.loads):
        assert detail["client_ceiling_rps"] > 0 and "share_of_ceiling" in detail
        assert detail["stats"]["attempted"] == 50
    assert by.loc["p95_ms", "sla"] == "<= 2000"


def test_allow_list_refuses_before_any_traffic(
    box: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    suite = {
        "targets": {"backend": box.backend_url},
        "probes": [{"name": "leak", "kind": "http", "url": "http://192.0.2.10/health"}],
    }
    with pytest.raises(ProbeError, match=re.escape("host '192.0.2.10' is not in the allow list")):
        run_suite(suite, variables={})
    path = tmp_path / "refused.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert cli(["suite", str(path)]) == 1  # the suite file is unusable, the arguments were fine
    assert "192.0.2.10" in capsys.readouterr().err


def test_cli_json_shape_and_no_token_anywhere(
    box: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = token_for(box, "suite-cli")
    monkeypatch.setenv("WHYLOOP_TEST_TOKEN", token)
    suite = {
        "name": "cli-check",
        "targets": {"backend": box.backend_url},
        "credentials": {"token_env": "WHYLOOP_TEST_TOKEN"},
        "probes": [
            {"name": "me", "kind": "http", "path": "/api/me", "expect_status": 200},
            {
                "name": "echo-token",
                "kind": "http",
                "path": "/api/me",
                "headers": {"X-Debug": token},
            },
            {"name": "errors", "kind": "error_handling", "auth_path": "/api/me"},
        ],
    }
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump(suite))
    store = tmp_path / "store"
    code = cli(["suite", str(path), "--json", "--loop", "cli", "--store", str(store)])
    out, err = capsys.readouterr()
    assert code == 0, out
    data = json.loads(out)
    assert set(data) == {"suite", "ok", "checks", "failed", "warnings", "stored", "rows"}
    assert data["suite"] == "cli-check" and data["ok"] is True and data["failed"] == 0
    row = data["rows"][0]
    assert set(row) == set(COLUMNS)
    assert row["probe"] == "me" and row["failed_stage"] is None
    assert [s["name"] for s in row["detail"]["stages"]][-1] == "expect"
    for text in (
        out,
        err,
        *(p.read_bytes().decode("latin-1") for p in (store / "cli" / "1").iterdir()),
    ):
        assert token not in text and token[20:] not in text
        assert not JWT_RE.search(text)
    assert token[:4] + "..." not in err


def test_human_output_and_exit_status(box: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        [
            "suite",
            "sandbox",
            "--sandbox-state",
            str(box.state_dir),
            "--var",
            "WHYLOOP_PROBE_USER=suite-human",
            "--var",
            "WHYLOOP_LOAD_USERS=5",
            "--var",
            "WHYLOOP_LOAD_REQUESTS=5",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   backend-health/probe" in out and re.search(r"\d+ checks, 0 failed", out)
    assert not JWT_RE.search(out)


def test_rate_limit_off_fails_and_flaky_messages_show_in_retries(tmp_path: Path) -> None:
    with sandbox(tmp_path / "box", faults=("rate-limit-off", "flaky-messages")) as box:
        suite: dict[str, Any] = {
            "targets": {"auth": box.auth_url, "backend": box.backend_url},
            "credentials": {"username": "flaky-user", "password": "whyloop-probe-password"},
            "probes": [
                {
                    "name": "resilience",
                    "kind": "resilience",
                    "retries": {
                        "setup": {"method": "POST", "path": "/api/threads", "body": {"title": "t"}},
                        "path": "/api/threads/{setup.id}/messages",
                        "body": {"content": "hi"},
                        "count": 8,
                        "max_retries": 4,
                        "backoff_s": 0.05,
                        "max_backoff_s": 0.2,
                    },
                },
                {"name": "rate-limit", "kind": "rate_limit", "path": "/api/me", "burst": 60},
            ],
        }
        df = run_suite(suite, variables={})
    rows = df.set_index("check")
    assert not rows.loc["limited", "ok"]
    assert rows.loc["limited", "failed_stage"] == "limited"
    assert "no 429 within a burst of 60" in rows.loc["limited", "diagnosis"]
    retries = rows.loc["retries"]
    assert retries["ok"] and retries["value"] > 0
    assert "the endpoint is flaky" in retries["warning"] and "503" in retries["warning"]
    assert "upstream connect error" in retries["warning"]
    assert df.attrs["warnings"] == [retries["warning"]]


def test_db_locked_fails_writes_with_evidence(tmp_path: Path) -> None:
    with sandbox(tmp_path / "box", faults=("db-locked",)) as box:
        values = {**variables("locked"), **bundled.suite_variables(box.state_dir)}
        df = run_suite(bundled.SUITE, variables=values)
    bad = failed(df).set_index("probe")
    assert {"create-thread", "resilience"} <= set(bad.index), bad
    create = bad.loc["create-thread"]
    assert create["failed_stage"] == "expect"
    assert "expected status 201, got 500" in create["diagnosis"]
    assert any("-> 500" in e for e in json.loads(create["evidence"]))
    assert "set-up request POST /api/threads failed: 500" in bad.loc["resilience", "diagnosis"]
    # the 500 itself leaks nothing internal
    assert df[df["check"] == "no_internal_detail"].iloc[0]["ok"]
    assert "database is locked" not in " ".join(df["diagnosis"])
