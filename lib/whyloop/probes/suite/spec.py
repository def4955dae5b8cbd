"""Read a probe suite file (YAML) into a checked :class:`SuiteSpec`; the schema is in :mod:`.run`.

Pure apart from reading the file: ``${VAR}`` and ``${VAR:-default}`` in any
string are replaced from ``variables`` (the environment, plus the sandbox's
URLs when asked), every option is checked against its kind's known options,
and every URL a probe will contact is checked against the allow-list before
any traffic. Errors are :class:`~whyloop.errors.ConfigError` naming the file
and the probe, or :class:`~whyloop.errors.ProbeError` naming a refused host.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from whyloop.errors import ConfigError, WhyloopError
from whyloop.probes.hosts import AllowList, host_of
from whyloop.probes.suite.load_stats import LOAD_SLA_KEYS

__all__ = ["Credentials", "ProbeKind", "ProbeSpec", "SuiteSpec", "load_suite"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ProbeKind(StrEnum):
    """The kinds of entries a suite can hold."""

    HTTP = "http"
    WS = "ws"
    LOAD = "load"
    RATE_LIMIT = "rate_limit"
    ERROR_HANDLING = "error_handling"
    RESILIENCE = "resilience"


#: kinds whose ``path`` is added to the target URL (without one, the target URL itself)
_PATH_KINDS = frozenset({ProbeKind.HTTP, ProbeKind.WS, ProbeKind.LOAD, ProbeKind.RATE_LIMIT})
_COMMON = {"name", "kind", "target", "path", "url", "auth", "timeout_s"}
#: the options each kind accepts (beyond the common ones) and their defaults
DEFAULTS: dict[ProbeKind, dict[str, Any]] = {
    ProbeKind.HTTP: {
        "method": "GET",
        "headers": {},
        "body": None,
        "expect_status": None,
        "expect_json": {},
        "origin": None,
        "insecure": False,
    },
    ProbeKind.WS: {},  # passed through to probe_websocket
    ProbeKind.LOAD: {
        "method": "GET",
        "headers": {},
        "body": None,
        "users": 10,
        "requests_per_user": 10,
        "max_seconds": 30.0,
        "sla": {},
    },
    ProbeKind.RATE_LIMIT: {"method": "GET", "body": None, "burst": 60, "max_wait_s": 30.0},
    ProbeKind.ERROR_HANDLING: {
        "unknown_path": "/whyloop-probe/no-such-path",
        "invalid_payload": None,
        "auth_path": None,
        "auth_expect": [401, 403],
        "traversal": ["/..%2f..%2f..%2fetc%2fpasswd"],
    },
    ProbeKind.RESILIENCE: {"timeout": None, "reconnects": None, "retries": None},
}
_SUB_OPTIONS = {
    "invalid_payload": {"method", "path", "body", "expect"},
    "timeout": {"method", "path", "body", "timeout_s"},
    "reconnects": {"path", "count"},
    "retries": {
        "setup",
        "method",
        "path",
        "body",
        "count",
        "max_retries",
        "backoff_s",
        "max_backoff_s",
        "retry_on",
    },
}


@dataclass(frozen=True)
class Credentials:
    """How the suite gets its Bearer token: a login, or an environment variable."""

    login_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token_field: str = "access_token"
    token_env: str | None = None


@dataclass(frozen=True)
class ProbeSpec:
    """One entry of the suite, its URL resolved and its options filled with defaults."""

    name: str
    kind: ProbeKind
    url: str
    auth: bool
    timeout_s: float
    options: dict[str, Any]


@dataclass(frozen=True)
class SuiteSpec:
    """A checked suite: targets, allow-list, credentials and probes in file order."""

    name: str
    targets: dict[str, str]
    allow: AllowList
    credentials: Credentials | None
    probes: list[ProbeSpec]
    max_seconds: float
    source: str


def _substitute(value: Any, variables: Mapping[str, str], where: str) -> Any:
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in variables:
                return variables[name]
            if default is not None:
                return default
            raise ConfigError(
                f"{where}: ${{{name}}} is not set and has no default (${{{name}:-...}})"
            )

        text = _VAR.sub(one, value)
        if _VAR.fullmatch(value) and text.strip():
            # a value that is one ${VAR} takes the YAML type of what it expands to (users: 50)
            with contextlib.suppress(yaml.YAMLError):
                scalar = yaml.safe_load(text)
                if isinstance(scalar, int | float | bool):
                    return scalar
        return text
    if isinstance(value, dict):
        return {k: _substitute(v, variables, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _read(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    if isinstance(source, Mapping):
        return dict(source), "<suite>"
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read suite file: {exc.strerror}", path=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}", path=str(path), line=line
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "a suite file must be a mapping with 'targets' and 'probes'", path=str(path)
        )
    return data, str(path)


def _url(base: str, path: str, where: str) -> str:
    if not path.startswith("/"):
        raise ConfigError(f"{where}: path {path!r} must start with '/'")
    return base.rstrip("/") + path


def _number(value: Any, where: str, *, low: float = 0, integer: bool = False) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value <= low:
        raise ConfigError(
            f"{where} must be {'an integer' if integer else 'a number'} > {low:g}, got {value!r}"
        )
    return value


def _check_options(kind: ProbeKind, entry: dict[str, Any], where: str) -> dict[str, Any]:
    options = {k: v for k, v in entry.items() if k not in _COMMON}
    if kind != ProbeKind.WS:
        unknown = sorted(set(options) - set(DEFAULTS[kind]))
        if unknown:
            known = ", ".join(sorted(set(DEFAULTS[kind]) | _COMMON))
            raise ConfigError(
                f"{where}: unknown option {unknown[0]!r} for kind {kind.value} (known: {known})"
            )
    merged = {**DEFAULTS[kind], **options}
    for key, allowed in _SUB_OPTIONS.items():
        sub = merged.get(key)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            raise ConfigError(f"{where}.{key} must be a mapping (or null to skip it)")
        extra = sorted(set(sub) - allowed)
        if extra:
            raise ConfigError(
                f"{where}.{key}: unknown option {extra[0]!r} (known: {', '.join(sorted(allowed))})"
            )
    if kind == ProbeKind.LOAD:
        for key in ("users", "requests_per_user"):
            _number(merged[key], f"{where}.{key}", integer=True)
        _number(merged["max_seconds"], f"{where}.max_seconds")
        sla = merged["sla"] or {}
        bad = sorted(set(sla) - set(LOAD_SLA_KEYS))
        if bad:
            raise ConfigError(
                f"{where}.sla: unknown key {bad[0]!r} (known: {', '.join(LOAD_SLA_KEYS)})"
            )
        for key, value in sla.items():
            _number(value, f"{where}.sla.{key}", low=-1)
    if kind == ProbeKind.RATE_LIMIT:
        _number(merged["burst"], f"{where}.burst", integer=True)
        _number(merged["max_wait_s"], f"{where}.max_wait_s")
    return merged


def _credentials(data: Any, targets: dict[str, str], where: str) -> Credentials | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping")
    known = {"login", "login_path", "username", "password", "token_field", "token_env"}
    extra = sorted(set(data) - known)
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(sorted(known))})")
    if data.get("token_env"):
        return Credentials(token_env=str(data["token_env"]))
    login = str(data.get("login", "auth"))
    base = targets.get(login, login)
    if "://" not in base:
        raise ConfigError(f"{where}.login: {login!r} is neither a target name nor a URL")
    if not data.get("username") or not data.get("password"):
        raise ConfigError(f"{where}: give username and password (or token_env)")
    return Credentials(
        login_url=_url(base, str(data.get("login_path", "/auth/login")), where),
        username=str(data["username"]),
        password=str(data["password"]),
        token_field=str(data.get("token_field", "access_token")),
    )


def load_suite(
    source: str | Path | Mapping[str, Any], *, variables: Mapping[str, str] | None = None
) -> SuiteSpec:
    """Read, substitute and check a suite; ``source`` is a path, a bundled name or a dict.

    ``variables`` feed ``${VAR}`` (pass ``os.environ`` merged with overrides;
    nothing is read from the environment here). Raises ConfigError for a bad
    file, ProbeError for a URL whose host the allow-list refuses.
    """
    raw, where = _read(source)
    try:
        return _build(_substitute(raw, variables or {}, "suite"), where)
    except WhyloopError as exc:
        raise exc.at(path=where if where != "<suite>" else None) from None


def _build(data: dict[str, Any], where: str) -> SuiteSpec:
    targets = data.get("targets")
    if not isinstance(targets, dict) or not targets:
        raise ConfigError(
            "'targets' must map names to base URLs, e.g. backend: http://127.0.0.1:8081"
        )
    targets = {str(k): str(v) for k, v in targets.items()}
    for name, url in targets.items():
        host_of(url)
        if "://" not in url:
            raise ConfigError(f"target {name!r}: {url!r} is not a URL")
    hosts = data.get("allow_hosts")
    if hosts is not None and not isinstance(hosts, list):
        raise ConfigError("'allow_hosts' must be a list of host names")
    allow = AllowList.of(hosts) if hosts else AllowList.from_urls(targets.values())
    for name, url in targets.items():
        allow.check(url, what=f"target {name!r}")
    credentials = _credentials(data.get("credentials"), targets, "credentials")
    if credentials and credentials.login_url:
        allow.check(credentials.login_url, what="login")
    entries = data.get("probes")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("'probes' must be a non-empty list")
    default_timeout = float(data.get("timeout_s", 10.0))
    probes: list[ProbeSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"probes[{i}] must be a mapping")
        name = str(entry.get("name") or f"probe{i + 1}")
        at = f"probe {name!r}"
        if name in seen:
            raise ConfigError(f"{at}: the name is used twice")
        seen.add(name)
        try:
            kind = ProbeKind(str(entry.get("kind")))
        except ValueError:
            kinds = ", ".join(k.value for k in ProbeKind)
            raise ConfigError(
                f"{at}: unknown kind {entry.get('kind')!r} (one of {kinds})"
            ) from None
        if entry.get("url"):
            url = str(entry["url"])
        else:
            target = str(
                entry.get("target", "backend" if "backend" in targets else next(iter(targets)))
            )
            if target not in targets:
                raise ConfigError(f"{at}: no target {target!r} (targets: {', '.join(targets)})")
            url = targets[target]
            if kind in _PATH_KINDS and "path" in entry:
                url = _url(url, str(entry["path"]), at)
            elif "path" in entry:
                raise ConfigError(f"{at}: kind {kind.value} takes its paths in its own options")
        allow.check(url, what=at)
        options = _check_options(kind, entry, at)
        timeout_s = _number(entry.get("timeout_s", default_timeout), f"{at}.timeout_s")
        auth_default = kind != ProbeKind.LOAD
        probes.append(
            ProbeSpec(
                name, kind, url, bool(entry.get("auth", auth_default)), float(timeout_s), options
            )
        )
    return SuiteSpec(
        name=str(data.get("name") or Path(where).stem),
        targets=targets,
        allow=allow,
        credentials=credentials,
        probes=probes,
        max_seconds=_number(data.get("max_seconds", 300.0), "max_seconds"),
        source=where,
    )
