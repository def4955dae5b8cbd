"""A short summary of a logs frame: how many records, when, which levels and services."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["summarize_logs"]


def summarize_logs(df: pd.DataFrame) -> dict[str, Any]:
    """Return rows, time range, counts by level and by service, format and warnings."""
    ts = (
        df["timestamp"]
        if "timestamp" in df and len(df)
        else pd.Series([], dtype="datetime64[ns, UTC]")
    )
    start, end = (ts.min(), ts.max()) if ts.notna().any() else (None, None)

    def counts(col: str) -> dict[str, int]:
        if col not in df or not len(df):
            return {}
        vc = df[col].dropna().astype(str).value_counts()
        return {str(k): int(v) for k, v in vc.items() if k}

    return {
        "rows": len(df),
        "start": start.isoformat() if start is not None else None,
        "end": end.isoformat() if end is not None else None,
        "format": df.attrs.get("format"),
        "by_level": counts("level"),
        "by_service": counts("service"),
        "warnings": list(df.attrs.get("warnings", [])),
    }
