"""An iteration's log templates as a table, and what changed between two iterations.

Pure. :func:`template_table` turns a logs frame into one row per template
(how often, when first and last, an example, the levels it came at): the
table an iteration keeps in the store::

    store.write("staging", 12, templates=whyloop.analyze.template_table(logs))

:func:`template_diff` compares two such tables: templates **new** in this
iteration, **gone** since the previous one, and those seen **more** or
**fewer** times, by their share of each iteration's lines (so a longer run
is not read as more of everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np
import pandas as pd

from whyloop.analyze.templates import mine_templates

__all__ = [
    "DIFF_COLUMNS",
    "TABLE_COLUMNS",
    "TemplateChange",
    "template_diff",
    "template_table",
    "with_templates",
]

#: Columns of :func:`template_table`, in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "template_id",
    "template",
    "count",
    "first_seen",
    "last_seen",
    "example",
    "levels",
)
#: Columns of :func:`template_diff`, in order.
DIFF_COLUMNS: tuple[str, ...] = (
    "template_id",
    "template",
    "change",
    "count_previous",
    "count_current",
    "share_previous",
    "share_current",
    "ratio",
    "example",
)


class TemplateChange(StrEnum):
    """How a template's count changed from the previous iteration to this one."""

    #: seen now, never in the previous iteration
    NEW = "new"
    #: seen in the previous iteration, not now
    GONE = "gone"
    #: a larger share of the lines now (by ``min_ratio`` or more)
    MORE = "more"
    #: a smaller share of the lines now (by ``min_ratio`` or more)
    FEWER = "fewer"


def with_templates(logs: pd.DataFrame, *, masks: Sequence[str] | None = None) -> pd.DataFrame:
    """``logs`` with ``template_id`` and ``template`` columns, mined from ``message`` if missing."""
    if "template_id" in logs and "template" in logs:
        return logs
    if "message" not in logs:
        raise ValueError("a logs frame needs a 'message' column (or 'template_id' and 'template')")
    mined = mine_templates(logs["message"], masks=masks)
    return logs.assign(template_id=mined["template_id"], template=mined["template"])


def _levels(frame: pd.DataFrame, codes: np.ndarray, n: int) -> list[str]:
    """Per template: ``"ERROR 3, INFO 12"``, most frequent level first ("" when none)."""
    out = [""] * n
    if "level" not in frame:
        return out
    level = frame["level"].astype(object).to_numpy()
    keep = (codes >= 0) & pd.notna(level)
    if not keep.any():
        return out
    counts = (
        pd.DataFrame({"code": codes[keep], "level": level[keep].astype(str)})
        .value_counts()
        .reset_index(name="n")
        .sort_values(["code", "n", "level"], ascending=[True, False, True], kind="stable")
    )
    for code, group in counts.groupby("code", sort=False):
        out[int(code)] = ", ".join(
            f"{lv} {k}" for lv, k in zip(group["level"], group["n"], strict=True)
        )
    return out


def template_table(logs: pd.DataFrame, *, masks: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per log template of ``logs``: the table an iteration keeps as ``templates``.

    ``logs`` is a logs frame; its ``template_id``/``template`` columns are used
    when present, else templates are mined from ``message`` (with ``masks``,
    see :func:`~whyloop.analyze.templates.mine_templates`). Columns are
    :data:`TABLE_COLUMNS`: ``count`` records, ``first_seen``/``last_seen``
    (UTC, NaT without timestamps), ``example`` (the first message of the
    template, in the frame's order) and ``levels`` (``"ERROR 3, INFO 12"``).
    Records without a template (no message) are left out. Most frequent first.
    """
    frame = with_templates(logs, masks=masks).reset_index(drop=True)
    codes, uniques = pd.factorize(frame["template_id"], use_na_sentinel=True)
    n = len(uniques)
    counts = np.bincount(codes[codes >= 0], minlength=n)
    first_row = np.full(n, len(frame), dtype=np.int64)
    np.minimum.at(first_row, codes[codes >= 0], np.flatnonzero(codes >= 0))
    stamps = (
        pd.to_datetime(frame["timestamp"], utc=True, errors="coerce")
        if "timestamp" in frame
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    )
    by_code = stamps.reset_index(drop=True).groupby(codes)
    first_seen = by_code.min().reindex(range(n)).reset_index(drop=True)
    last_seen = by_code.max().reindex(range(n)).reset_index(drop=True)
    message = frame["message"] if "message" in frame else frame["template"]
    table = pd.DataFrame(
        {
            "template_id": pd.array(np.asarray(uniques, dtype=object), dtype="str"),
            "template": pd.array(frame["template"].iloc[first_row].to_numpy(object), dtype="str"),
            "count": counts.astype(np.int64),
            "first_seen": first_seen,
            "last_seen": last_seen,
            "example": pd.array(message.iloc[first_row].to_numpy(object), dtype="str"),
            "levels": pd.array(_levels(frame, codes, n), dtype="str"),
        }
    )
    table["first_seen"] = pd.to_datetime(table["first_seen"], utc=True)
    table["last_seen"] = pd.to_datetime(table["last_seen"], utc=True)
    order = np.lexsort((table["template_id"].to_numpy(dtype=object), -table["count"].to_numpy()))
    return table.iloc[order].reset_index(drop=True)


def _counts(table: pd.DataFrame) -> pd.DataFrame:
    """``template_id, template, count, example`` from a template table or a frame with templates."""
    if "template_id" not in table:
        raise ValueError("a template table needs a 'template_id' column")
    if "count" not in table:  # one row per record (logs with templates)
        table = table.assign(count=1)
    out = table.assign(
        template=table.get("template"),
        example=table.get("example"),
    ).dropna(subset=["template_id"])
    return out.groupby("template_id", sort=True).agg(
        template=("template", "first"), count=("count", "sum"), example=("example", "first")
    )


def template_diff(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    min_ratio: float = 2.0,
    min_count: int = 5,
) -> pd.DataFrame:
    """Templates new, gone, or seen more or fewer times in ``current`` than in ``previous``.

    Both are template tables (:func:`template_table`, or any frame with
    ``template_id`` and ``count``; a logs frame with a ``template_id`` per
    record works too). A template counts as **more** or **fewer** when its share
    of the iteration's records changed by ``min_ratio`` or more and it was seen
    at least ``min_count`` times in one of the two. Columns are
    :data:`DIFF_COLUMNS`: ``change`` is a :class:`TemplateChange`, ``ratio`` is
    ``share_current / share_previous`` (``inf`` for new, 0 for gone). Rows come
    new, gone, more, fewer, each most frequent first; unchanged templates are
    left out.
    """
    if min_ratio <= 1:
        raise ValueError(f"min_ratio must be above 1, not {min_ratio}")
    now, before = _counts(current), _counts(previous)
    both = now.add_suffix("_current").join(before.add_suffix("_previous"), how="outer")
    count_now = both["count_current"].fillna(0).astype(np.int64)
    count_before = both["count_previous"].fillna(0).astype(np.int64)
    share_now = count_now / max(int(count_now.sum()), 1)
    share_before = count_before / max(int(count_before.sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(count_before > 0, share_now / share_before, np.inf)
    change = np.select(
        [
            count_before == 0,
            count_now == 0,
            (ratio >= min_ratio) & (np.maximum(count_now, count_before) >= min_count),
            (ratio <= 1 / min_ratio) & (np.maximum(count_now, count_before) >= min_count),
        ],
        [TemplateChange.NEW, TemplateChange.GONE, TemplateChange.MORE, TemplateChange.FEWER],
        default="",
    )
    out = pd.DataFrame(
        {
            "template_id": both.index.astype(str),
            "template": both["template_current"].fillna(both["template_previous"]).to_numpy(),
            "change": change,
            "count_previous": count_before.to_numpy(),
            "count_current": count_now.to_numpy(),
            "share_previous": share_before.to_numpy(),
            "share_current": share_now.to_numpy(),
            "ratio": ratio,
            "example": both["example_current"].fillna(both["example_previous"]).to_numpy(),
        }
    )
    out = out[out["change"] != ""]
    kind = out["change"].map({c.value: i for i, c in enumerate(TemplateChange)})
    biggest = np.maximum(out["count_current"], out["count_previous"])
    out = out.assign(_kind=kind, _n=-biggest).sort_values(["_kind", "_n", "template_id"])
    out = out.drop(columns=["_kind", "_n"]).reset_index(drop=True)
    out["change"] = out["change"].map(TemplateChange).astype(object)
    return out[list(DIFF_COLUMNS)]
