"""The report's deployment status: each service up or down from health probes, and its revisions.

Pure. Two witnesses, each said for what it is: the health probes (the
store's ``health`` table, or a probe suite's health checks) tell whether a
service answered and which revision or version it reported; the logs tell
which revisions wrote records, and when. A figure neither gives is
``unknown``, with why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from whyloop.analyze.health import health_from_suite

if TYPE_CHECKING:
    from whyloop.report.sections import IterationData

__all__ = ["DEPLOYMENT_COLUMNS", "deployment", "health_table", "log_revisions"]

#: columns of :func:`deployment`, in order
DEPLOYMENT_COLUMNS = (
    "service",
    "health",
    "revision",
    "version",
    "revisions_in_logs",
    "log_records",
    "first_log",
    "last_log",
)
_NOT_PROBED = "unknown: no health probe of this service in this iteration"


def health_table(data: IterationData) -> pd.DataFrame | None:
    """Every health observation of the iteration: its ``health`` table and its suite's health checks."""
    parts = [
        h for h in (getattr(data, "health", None), health_from_suite(data.probes)) if h is not None
    ]
    parts = [h for h in parts if len(h)]
    return pd.concat(parts, ignore_index=True) if parts else None


def log_revisions(data: IterationData) -> pd.DataFrame | str:
    """Per (service, revision) in the logs: records, first and last seen; or why there is none."""
    logs = data.logs
    if logs is None or logs.empty or "service" not in logs:
        return "unknown: this iteration holds no logs naming a service"
    if "revision" not in logs or logs["revision"].isna().all():
        return "unknown: the logs carry no revision"
    frame = logs.assign(revision=logs["revision"].fillna("unknown"))
    by = frame.groupby(["service", "revision"], dropna=False)["timestamp"]
    return by.agg(records="size", first_seen="min", last_seen="max").reset_index()


def _health_text(row: pd.Series) -> str:
    status = "" if pd.isna(row["http_status"]) else f" (HTTP {int(row['http_status'])})"
    if row["up"]:
        return f"up{status}"
    return f"down{status}: {row['detail']}" if row["detail"] else f"down{status}"


def _figure(row: pd.Series, name: str) -> str:
    if pd.notna(row[name]) and str(row[name]):
        return str(row[name])
    detail = str(row["detail"] or "")
    return f"unknown: {detail}" if detail else "unknown: the health answer did not say"


def deployment(data: IterationData) -> pd.DataFrame | str:
    """One row per service: health (up/down), revision and version it reported, revisions in its logs.

    ``health``, ``revision`` and ``version`` come from health probes;
    ``revisions_in_logs``, ``log_records``, ``first_log`` and ``last_log`` from the logs.
    """
    health = health_table(data)
    logs = log_revisions(data)
    if health is None and isinstance(logs, str):
        return f"{logs}; and no health probe was run in this iteration"
    rows: dict[str, dict[str, object]] = {}
    if health is not None:
        for _, h in health.drop_duplicates("service", keep="last").iterrows():
            rows[str(h["service"])] = {
                "health": _health_text(h),
                "revision": _figure(h, "revision"),
                "version": _figure(h, "version"),
            }
    why_not_probed = _NOT_PROBED if health is not None else "unknown: no health probe was run"
    if isinstance(logs, pd.DataFrame):
        for service, group in logs.groupby("service", sort=True):
            row = rows.setdefault(
                str(service),
                {"health": why_not_probed, "revision": why_not_probed, "version": why_not_probed},
            )
            row["revisions_in_logs"] = ", ".join(str(r) for r in group["revision"])
            row["log_records"] = int(group["records"].sum())
            row["first_log"] = group["first_seen"].min()
            row["last_log"] = group["last_seen"].max()
    for row in rows.values():
        if "revisions_in_logs" not in row:
            reason = logs if isinstance(logs, str) else "unknown: no log record of this service"
            row.update(revisions_in_logs=reason, log_records=0, first_log=None, last_log=None)
    frame = pd.DataFrame([{"service": s, **r} for s, r in sorted(rows.items())])
    frame["log_records"] = frame["log_records"].astype("int64")
    return frame.reindex(columns=list(DEPLOYMENT_COLUMNS))
