"""What health endpoints said: each service up or down, and the revision or version it reported.

Pure: probe results are read as data (:class:`whyloop.results.ProbeResult`,
or the rows of a probe suite), never by importing the probes. A health probe
is an HTTP probe of a health path (``/health``, ``/healthz``, ``/readyz``,
``/livez``, ``/ready``, ``/status``, ``/version``, ``/ping``) or one whose
suite name holds ``health``. Its body stage keeps an excerpt of the answer;
when that is a JSON object, ``service``, ``revision`` and ``version`` are read
from it (:data:`REVISION_KEYS`, :data:`VERSION_KEYS`). Nothing is guessed: a
figure the answer did not carry is None, and ``detail`` says why::

    health = health_from_results([probe_http(url + "/health")])
    health[["service", "up", "revision", "detail"]]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from whyloop.redact import redact_frame
from whyloop.results import ProbeResult

__all__ = [
    "HEALTH_COLUMNS",
    "REVISION_KEYS",
    "VERSION_KEYS",
    "health_from_results",
    "health_from_suite",
    "health_row",
    "is_health_url",
]

#: columns of a health table (the store's ``health`` table), in order
HEALTH_COLUMNS: tuple[str, ...] = (
    "service",
    "url",
    "up",
    "http_status",
    "revision",
    "version",
    "observed_at",
    "source",
    "detail",
)
#: keys of a health answer naming the deployed revision, first found wins
REVISION_KEYS: tuple[str, ...] = ("revision", "K_REVISION", "deployment", "release")
#: keys of a health answer naming the build's version, first found wins
VERSION_KEYS: tuple[str, ...] = ("version", "build", "commit", "git_sha", "image")
_HEALTH_PATH = re.compile(r"/(?:_ah/)?(?:health|healthz|readyz|livez|ready|status|version|ping)/?$")


def is_health_url(url: str) -> bool:
    """True when ``url``'s path ends in a health path (``/health``, ``/healthz``, ``/readyz``...)."""
    return bool(_HEALTH_PATH.search(urlsplit(str(url)).path.lower()))


def _first(body: dict[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, str | int | float) and str(value).strip():
            return str(value)
    return None


def _body(stages: Sequence[dict[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """The health answer as a JSON object, or None with why it is not one."""
    stage = next((s for s in stages if s.get("name") == "body"), None)
    if stage is None or not stage.get("ok"):
        return None, "no body was read"
    excerpt = str((stage.get("detail") or {}).get("excerpt") or "")
    if not excerpt.strip():
        return None, "the answer had an empty body"
    try:
        body = json.loads(excerpt)
    except ValueError:
        return None, "the body is not JSON (or was cut short)"
    if not isinstance(body, dict):
        return None, "the body is JSON but not an object"
    return body, ""


def _status(stages: Sequence[dict[str, Any]]) -> int | None:
    for stage in stages:
        status = (stage.get("detail") or {}).get("status")
        if isinstance(status, int):
            return status
    return None


def health_row(
    *,
    url: str,
    ok: bool,
    stages: Sequence[dict[str, Any]],
    diagnosis: str = "",
    name: str | None = None,
    observed_at: Any = None,
    source: str = "probe",
) -> dict[str, Any]:
    """One row of a health table from one probe's stages (``ProbeResult.to_dict()["stages"]``)."""
    body, why = _body(stages)
    path = urlsplit(url).path or "/"
    notes = []
    revision = version = None
    service = name
    if body is None:
        notes.append(f"{path}: {why}, so it reported no revision or version")
    else:
        service = _first(body, ("service", "name", "app")) or name
        revision = _first(body, REVISION_KEYS)
        version = _first(body, VERSION_KEYS)
        missing = [k for k, v in (("revision", revision), ("version", version)) if v is None]
        if missing:
            notes.append(f"{path} reported no {' or '.join(missing)}")
    if not ok:
        notes.insert(0, diagnosis or "the health probe failed")
    return {
        "service": service or urlsplit(url).netloc or url,
        "url": url,
        "up": bool(ok),
        "http_status": _status(stages),
        "revision": revision,
        "version": version,
        "observed_at": pd.to_datetime(observed_at, utc=True) if observed_at is not None else None,
        "source": source,
        "detail": "; ".join(notes),
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(HEALTH_COLUMNS))
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    frame["http_status"] = frame["http_status"].astype("Int64")
    frame["up"] = frame["up"].astype(bool)
    return redact_frame(frame)


def health_from_results(
    results: Iterable[ProbeResult],
    *,
    names: Sequence[str] | None = None,
    observed_at: Any = None,
) -> pd.DataFrame:
    """A health table from HTTP probe results of health endpoints (others are left out).

    ``names`` name the services in the order of ``results`` where the answer
    does not; ``observed_at`` is when they ran (None: unknown).
    """
    rows = []
    for i, result in enumerate(results):
        if result.kind != "http" or not is_health_url(result.target):
            continue
        data = result.to_dict()
        name = names[i] if names is not None and i < len(names) else None
        rows.append(
            health_row(
                url=data["target"],
                ok=data["ok"],
                stages=data["stages"],
                diagnosis=data["diagnosis"],
                name=name,
                observed_at=observed_at,
            )
        )
    return _frame(rows)


def health_from_suite(probes: pd.DataFrame | None) -> pd.DataFrame:
    """A health table from a probe suite's rows: its HTTP probes of health endpoints.

    ``probes`` is what :func:`whyloop.probes.run_suite` returns (``kind``,
    ``probe``, ``target``, ``ok``, ``detail`` JSON with the stages, ``started``);
    any other frame, or None, gives an empty table.
    """
    need = {"kind", "probe", "target", "ok", "detail"}
    if probes is None or not need <= set(probes.columns):
        return _frame([])
    http = probes[probes["kind"].astype(str) == "http"]
    rows = []
    for r in http.to_dict("records"):
        if not (is_health_url(str(r["target"])) or "health" in str(r["probe"]).lower()):
            continue
        try:
            stages = json.loads(str(r["detail"])).get("stages") or []
        except (ValueError, AttributeError):
            stages = []
        rows.append(
            health_row(
                url=str(r["target"]),
                ok=bool(r["ok"]),
                stages=stages,
                diagnosis=str(r.get("diagnosis") or ""),
                name=str(r["probe"]),
                observed_at=r.get("started"),
                source=f"suite {r.get('suite') or ''}".strip(),
            )
        )
    return _frame(rows)
