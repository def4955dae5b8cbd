"""Reading suite files: substitution, defaults, option checks, the allow-list (no network)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from whyloop.errors import ConfigError, ProbeError
from whyloop.probes.suite.spec import ProbeKind, load_suite
from whyloop.sandbox import SUITE

VARS = {
    "WHYLOOP_AUTH_URL": "http://127.0.0.1:7001",
    "WHYLOOP_BACKEND_URL": "http://127.0.0.1:7002",
    "WHYLOOP_WS_URL": "ws://127.0.0.1:7002/ws",
}


def suite(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "targets": {"backend": "${WHYLOOP_BACKEND_URL}"},
        "probes": [{"name": "health", "kind": "http", "path": "/health"}],
    }
    data.update(extra)
    return data


def test_bundled_sandbox_suite_loads_with_env_urls() -> None:
    spec = load_suite(SUITE, variables=VARS)
    assert spec.name == "sandbox"
    assert spec.targets["backend"] == "http://127.0.0.1:7002"
    kinds = {p.kind for p in spec.probes}
    assert kinds == set(ProbeKind)
    assert spec.probes[-1].kind == ProbeKind.RATE_LIMIT  # last, as documented
    load = next(p for p in spec.probes if p.kind == ProbeKind.LOAD)
    assert load.options["users"] == 50 and isinstance(load.options["users"], int)
    assert load.auth is False
    assert (
        spec.credentials is not None
        and spec.credentials.login_url == "http://127.0.0.1:7001/auth/login"
    )


def test_defaults_of_the_bundled_suite_without_variables() -> None:
    spec = load_suite(SUITE, variables={})
    assert spec.targets["auth"] == "http://127.0.0.1:8080"


def test_substitution_types_and_missing_variables() -> None:
    spec = load_suite(
        suite(
            probes=[
                {
                    "name": "l",
                    "kind": "load",
                    "path": "/health",
                    "users": "${USERS:-7}",
                    "sla": {"p95_ms": "${P95}"},
                }
            ]
        ),
        variables={**VARS, "P95": "250.5"},
    )
    options = spec.probes[0].options
    assert options["users"] == 7 and options["sla"] == {"p95_ms": 250.5}
    with pytest.raises(ConfigError, match=r"\$\{WHYLOOP_BACKEND_URL\} is not set"):
        load_suite(suite(), variables={})


def test_unknown_kind_option_and_sla_key_are_named() -> None:
    with pytest.raises(ConfigError, match="unknown kind 'soak'"):
        load_suite(suite(probes=[{"name": "x", "kind": "soak"}]), variables=VARS)
    with pytest.raises(ConfigError, match="unknown option 'userz' for kind load"):
        load_suite(suite(probes=[{"kind": "load", "userz": 3}]), variables=VARS)
    with pytest.raises(ConfigError, match="unknown key 'p90_ms'"):
        load_suite(suite(probes=[{"kind": "load", "sla": {"p90_ms": 3}}]), variables=VARS)
    with pytest.raises(ConfigError, match="retries: unknown option 'tries'"):
        load_suite(
            suite(probes=[{"kind": "resilience", "retries": {"path": "/x", "tries": 3}}]),
            variables=VARS,
        )
    with pytest.raises(ConfigError, match="users must be an integer"):
        load_suite(suite(probes=[{"kind": "load", "users": 0}]), variables=VARS)


def test_allow_list_refuses_hosts_not_named() -> None:
    refused = suite(probes=[{"name": "out", "kind": "http", "url": "http://10.1.2.3:80/admin"}])
    with pytest.raises(
        ProbeError, match=re.escape("probe 'out' host '10.1.2.3' is not in the allow list")
    ):
        load_suite(refused, variables=VARS)
    # naming the host explicitly allows it
    allowed = load_suite(refused | {"allow_hosts": ["127.0.0.1", "10.1.2.3"]}, variables=VARS)
    assert allowed.probes[0].url == "http://10.1.2.3:80/admin"
    # and a target outside an explicit allow-list is refused as well
    with pytest.raises(ProbeError, match=re.escape("target 'backend' host '127.0.0.1'")):
        load_suite(suite(allow_hosts=["staging.example"]), variables=VARS)


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("targets:\n  backend: http://127.0.0.1:1\nprobes: [\n")
    with pytest.raises(ConfigError) as err:
        load_suite(bad)
    assert str(err.value).startswith(str(bad))
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match="cannot read suite file"):
        load_suite(missing)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "targets: {backend: 'http://127.0.0.1:1'}\nprobes:\n  - {kind: http, path: health}\n"
    )
    with pytest.raises(ConfigError, match="must start with '/'") as err:
        load_suite(wrong)
    assert str(wrong) in str(err.value)


def test_credentials_forms() -> None:
    spec = load_suite(suite(credentials={"token_env": "STAGING_TOKEN"}), variables=VARS)
    assert spec.credentials is not None and spec.credentials.token_env == "STAGING_TOKEN"
    with pytest.raises(ConfigError, match="give username and password"):
        load_suite(
            suite(targets={"auth": "http://127.0.0.1:1"}, credentials={"username": "u"}),
            variables=VARS,
        )
    spec = load_suite(
        suite(
            targets={"backend": "http://127.0.0.1:2", "auth": "http://127.0.0.1:1"},
            credentials={"username": "u", "password": "hunter22"},
        )
    )
    assert spec.credentials is not None and "hunter22" not in repr(spec.credentials)
