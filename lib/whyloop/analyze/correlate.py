"""The log records around each failure, most telling first, each with the reason for its rank.

Pure. For every failing test (its last execution, outcome ``failed`` or
``error``) :func:`correlate_logs` keeps the log records

- of its time window: from the test's ``start`` to its ``stop`` (``start`` plus
  ``duration_s`` when no stop is given), widened by ``slack_s`` either side;
- that share an id with it: UUIDs, hex trace/request ids (16 to 64 hex digits)
  and ``request_id=...``-style values found in the failure's ``message`` and
  ``details`` and the test's ``stdout``/``stderr``, matched against the logs'
  ``trace_id`` and ``request_id`` columns and searched for in their messages;

and scores each record by what makes a record telling (the weights are
:data:`WEIGHTS`)::

    shared id      4    the record carries an id the failure names
    level          3    ERROR or CRITICAL (WARNING 1.5; a record with no
                        level that answered HTTP 5xx counts as a WARNING)
    rare template  2    x (1 - ln k / ln N), a template seen in k of N records
    closeness      2    inside the test's window (start to stop); outside it,
                        half that at the window's edge, falling to 0 at slack_s

Ties go to the record nearest the failure (the test's stop). ``reasons``
spells the score out: ``ERROR level; shares trace id 4bf92f35...; 0.2 s after
the failure; template seen in 3 of 2000 records``.

Templates come from log template mining (``templates``: a template id per log
record, in the logs frame's row order). Without them, a record's *message
shape* stands in: its message with every word holding a digit replaced by
``#`` (``POST /api/threads/thr_7a1/messages 503`` -> ``POST /api/threads/#/messages #``),
and the reason says "message shape".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from whyloop.analyze.clusters import ITERATION, failed_runs, iteration_order

__all__ = [
    "CORRELATION_COLUMNS",
    "WEIGHTS",
    "cluster_logs",
    "correlate_logs",
    "failure_ids",
    "message_shape",
]

#: how much each kind of evidence adds to a record's score
WEIGHTS: dict[str, float] = {
    "shared_id": 4.0,
    "error": 3.0,
    "warning": 1.5,
    "rare": 2.0,
    "close": 2.0,
}
_LOG_OUT = ("timestamp", "level", "service", "message", "trace_id", "request_id", "source", "line")
#: columns of :func:`correlate_logs`, in order
CORRELATION_COLUMNS: tuple[str, ...] = (
    ITERATION,
    "test_id",
    "cluster_id",
    "rank",
    "score",
    "reasons",
    *_LOG_OUT,
    "offset_s",
    "in_window",
    "shared_id",
    "template_id",
    "log_row",
)

_ID_PATTERNS = (
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    # 16-64 hex digits holding both a digit and a letter: trace/span/request ids, not numbers
    re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,64}\b", re.I),
    re.compile(
        r"(?i)\b(?:x-)?(?:request|trace|correlation|span)[-_ ]?id[\"']?\s*[:=]\s*[\"']?"
        r"([A-Za-z0-9][\w.:-]{5,127})"
    ),
)
# ASCII word characters, as the Arrow (RE2) kernel that applies it to a whole log reads them
_SHAPE = re.compile(r"[\w.:-]*\d[\w.:-]*", re.ASCII)
_ERROR = frozenset({"ERROR", "CRITICAL", "ALERT", "EMERGENCY", "FATAL"})
_STATUS_COLUMNS = ("httpRequest.status", "status", "http.status_code")
_MAX_IDS = 2000  # ids searched for in messages at once (one alternation)
#: the share of the closeness weight a record just outside the test's window gets: with
#: measured times (report-log) this keeps a neighbouring test's errors below the test's own
#: records; with times implied by laying cases end to end (JUnit) windows are approximate
_EDGE = 0.5


def failure_ids(*texts: str) -> list[str]:
    """The ids (lowercased, first seen first) found in a failure's texts: UUIDs, hex, ``request_id=``."""
    found: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for pattern in _ID_PATTERNS:
            for match in pattern.finditer(text):
                value = match.group(match.lastindex or 0).lower().strip(".:-")
                if len(value) >= 6:
                    found.setdefault(value)
    return list(found)


def message_shape(message: str) -> str:
    """A message with every word holding a digit replaced by ``#``: a template stand-in."""
    return _SHAPE.sub("#", message or "")


def _text(values: pd.Series) -> np.ndarray:
    series = values.astype(object)
    return series.where(series.notna(), "").astype(str).to_numpy()


def _arrow_text(df: pd.DataFrame, name: str) -> pd.Series:
    """A column as Arrow-backed text, missing values empty (an absent column all empty)."""
    if name not in df:
        return pd.Series("", index=df.index, dtype="string[pyarrow]")
    return df[name].astype(object).where(df[name].notna(), "").astype("string[pyarrow]")


class _Logs:
    """The logs frame prepared once: times, levels, statuses, template counts, by position.

    Vectorised (Arrow string kernels, factorized messages): a million records
    take seconds, not minutes. Ids are looked up only when a failure names one.
    """

    def __init__(self, logs: pd.DataFrame, templates: pd.Series | pd.DataFrame | None) -> None:
        self.frame = logs.reset_index(drop=True)
        self.n = n = len(self.frame)
        stamps = (
            pd.to_datetime(self.frame["timestamp"], utc=True, errors="coerce")
            if "timestamp" in self.frame
            else pd.Series(pd.NaT, index=self.frame.index, dtype="datetime64[ns, UTC]")
        )
        # epoch seconds, NaN where unknown (whatever the unit: frames hold us or ns)
        seconds = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=float)
        self.seconds = seconds
        self.order = np.argsort(np.where(np.isnan(seconds), np.inf, seconds), kind="stable")
        self.sorted_s = np.where(np.isnan(seconds), np.inf, seconds)[self.order]
        self.level = _arrow_text(self.frame, "level").str.upper().to_numpy(dtype=object)
        status = np.full(n, np.nan)
        for name in _STATUS_COLUMNS:
            if name in self.frame:
                status = pd.to_numeric(self.frame[name], errors="coerce").to_numpy(dtype=float)
                break
        self.status = status
        self.iteration = _text(self.frame[ITERATION]) if ITERATION in self.frame else None
        self.template_id, self.kind = self._templates(templates)
        codes, _ = pd.factorize(self.template_id)
        self.template_count = np.bincount(codes, minlength=1)[codes].astype(float)

    def _templates(self, templates: pd.Series | pd.DataFrame | None) -> tuple[np.ndarray, str]:
        if templates is None:
            codes, unique = pd.factorize(_arrow_text(self.frame, "message"))
            shapes = (
                pd.Series(np.asarray(unique, dtype=object), dtype="string[pyarrow]")
                .str.replace(_SHAPE.pattern, "#", regex=True)
                .to_numpy(dtype=object)
            )
            return shapes[codes] if len(codes) else np.array([], dtype=object), "message shape"
        if isinstance(templates, pd.DataFrame):
            templates = templates["template_id"]
        if len(templates) != self.n:
            raise ValueError(
                f"templates has {len(templates)} ids for {self.n} log records: "
                "pass one template id per record, in the logs frame's order"
            )
        return _text(pd.Series(list(templates), dtype=object)), "template"

    def window(self, lo: float, hi: float) -> np.ndarray:
        """Positions of the records with a time in [lo, hi]."""
        a = np.searchsorted(self.sorted_s, lo, side="left")
        b = np.searchsorted(self.sorted_s, hi, side="right")
        return self.order[a:b]


def _id_index(logs: _Logs, ids: set[str]) -> dict[str, list[tuple[int, str]]]:
    """Map each id to the records carrying it: ``[(position, where)]``."""
    index: dict[str, list[tuple[int, str]]] = {i: [] for i in ids}
    if not ids or not logs.n:
        return index
    for name, where in (("trace_id", "trace id"), ("request_id", "request id")):
        values = _arrow_text(logs.frame, name).str.lower()
        for pos in np.flatnonzero(values.isin(list(ids)).to_numpy(dtype=bool)):
            index[str(values.iloc[pos])].append((int(pos), where))
    chosen = sorted(ids, key=len, reverse=True)[:_MAX_IDS]
    pattern = "|".join(re.escape(i) for i in chosen)
    messages = _arrow_text(logs.frame, "message").str.lower()
    for pos in np.flatnonzero(messages.str.contains(pattern, regex=True).to_numpy(dtype=bool)):
        for value in dict.fromkeys(re.findall(pattern, str(messages.iloc[pos]))):
            if not any(p == pos for p, _ in index[value]):
                index[value].append((int(pos), "message"))
    return index


def _span(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _when(offset: float, inside: bool, before_start: float) -> str:
    if math.isnan(offset):
        return "no time on the record"
    if offset > 0:
        return f"{_span(offset)} after the failure"
    if inside:
        return f"during the test, {_span(-offset)} before the failure"
    return f"{_span(before_start)} before the test started"


def _score_failure(
    logs: _Logs,
    positions: np.ndarray,
    shared: dict[int, str],
    start: float,
    stop: float,
    slack_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Callable[[int], str]]:
    """Scores, offsets, in-window flags of ``positions`` for one failure, and the reason for one.

    The reasons are worded only for the records kept (a whole log can be scored).
    """
    level = logs.level[positions]
    status = logs.status[positions]
    is_error = np.isin(level, list(_ERROR))
    is_warning = (level == "WARNING") | ((level == "") & (status >= 500))
    k = logs.template_count[positions]
    n = max(logs.n, 1)
    rarity = np.ones(len(positions)) if n < 2 else 1.0 - np.log(np.maximum(k, 1)) / math.log(n)
    t = logs.seconds[positions]
    timed = not math.isnan(start)
    if timed:
        outside = np.where(t < start, start - t, np.where(t > stop, t - stop, 0.0))
        inside = outside == 0.0
        # a record outside the test's own window most likely belongs to a neighbouring test:
        # being inside is worth a step, and the slack (for clock skew) counts half at most
        near = np.clip(1.0 - outside / slack_s, 0.0, 1.0) if slack_s > 0 else 0.0 * outside
        close = np.where(inside, 1.0, _EDGE * near)
        close = np.where(np.isnan(t), 0.0, close)
        offsets = t - stop
    else:
        inside = np.zeros(len(positions), dtype=bool)
        close = np.zeros(len(positions))
        offsets = np.full(len(positions), np.nan)
    has_id = np.array([p in shared for p in positions], dtype=bool)
    score = (
        WEIGHTS["shared_id"] * has_id
        + WEIGHTS["error"] * is_error
        + WEIGHTS["warning"] * (is_warning & ~is_error)
        + WEIGHTS["rare"] * rarity
        + WEIGHTS["close"] * close
    )

    def reason(i: int) -> str:
        parts = []
        if is_error[i]:
            parts.append(f"{level[i]} level")
        elif level[i] == "WARNING":
            parts.append("WARNING level")
        elif is_warning[i]:
            parts.append(f"answered HTTP {int(status[i])} (the record has no level)")
        if has_id[i]:
            parts.append(shared[int(positions[i])])
        if timed:
            parts.append(_when(float(offsets[i]), bool(inside[i]), float(start - t[i])))
        else:
            parts.append("the results give no test times: the whole log was searched")
        parts.append(f"{logs.kind} seen in {int(k[i])} of {logs.n} records")
        return "; ".join(parts)

    return score, offsets, inside, reason


def _bounds(row: dict) -> tuple[float, float]:
    start = pd.to_datetime(row.get("start"), utc=True, errors="coerce")
    stop = pd.to_datetime(row.get("stop"), utc=True, errors="coerce")
    if pd.isna(start):
        return math.nan, math.nan
    duration = pd.to_numeric(row.get("duration_s"), errors="coerce")
    if pd.isna(stop):
        stop = start + pd.Timedelta(seconds=float(duration) if pd.notna(duration) else 0.0)
    return start.value / 1e9, max(stop.value, start.value) / 1e9


def correlate_logs(
    tests: pd.DataFrame,
    logs: pd.DataFrame,
    *,
    slack_s: float = 5.0,
    templates: pd.Series | pd.DataFrame | None = None,
    max_per_failure: int = 20,
) -> pd.DataFrame:
    """The log records of each failing test, ranked most telling first, with the reasons.

    ``tests`` is a tests frame (or several iterations of one, with
    ``iteration``: then ``logs`` with an ``iteration`` column is matched
    iteration by iteration). ``logs`` is a logs frame (:func:`whyloop.read_logs`).
    ``slack_s`` widens each test's window either side; ``templates`` gives
    each log record's template id (a Series, or the frame of template mining
    with ``template_id``), in the logs frame's row order; ``max_per_failure``
    keeps that many records per failure (the best).

    Returns one row per (failing test, record kept) with the columns of
    :data:`CORRELATION_COLUMNS`: ``rank`` (1 = most telling), ``score``,
    ``reasons``, the record's own columns, ``offset_s`` (record time minus the
    test's stop: negative before the failure), ``in_window`` (between start
    and stop), ``shared_id`` (the id it shares, else empty), ``template_id``
    (None without ``templates``) and ``log_row`` (its position in ``logs``).
    A test without times gets the whole log, scored without closeness.
    """
    if slack_s < 0:
        raise ValueError(f"slack_s must be >= 0, got {slack_s}")
    failed = failed_runs(tests)
    if failed.empty or logs is None or logs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CORRELATION_COLUMNS})
    prepared = _Logs(logs, templates)
    per_iteration = prepared.iteration is not None and ITERATION in tests
    records = failed.to_dict("records")
    ids = {
        (r[ITERATION], r["test_id"]): failure_ids(
            *(r[c] for c in ("message", "details", "stdout", "stderr") if isinstance(r.get(c), str))
        )
        for r in records
    }
    index = _id_index(prepared, {i for found in ids.values() for i in found})
    rank = {name: i for i, name in enumerate(iteration_order(failed[ITERATION]))}
    rows: list[dict] = []
    for r in sorted(records, key=lambda r: rank[r[ITERATION]]):
        start, stop = _bounds(r)
        shared: dict[int, str] = {}
        for value in ids[(r[ITERATION], r["test_id"])]:
            for pos, where in index.get(value, ()):
                shown = value if len(value) <= 12 else value[:12] + "..."
                shared.setdefault(
                    pos,
                    f"shares {where} {shown}"
                    if where != "message"
                    else f"its message names {shown}",
                )
        if math.isnan(start):
            window = np.arange(prepared.n)
        else:
            window = prepared.window(start - slack_s, stop + slack_s)
        positions = np.union1d(window, np.fromiter(shared, dtype=int, count=len(shared)))
        if per_iteration:
            positions = positions[prepared.iteration[positions] == r[ITERATION]]
        if not len(positions):
            continue
        score, offsets, inside, reason = _score_failure(
            prepared, positions, shared, start, stop, slack_s
        )
        distance = np.where(np.isnan(offsets), np.inf, np.abs(offsets))
        best = np.lexsort((positions, distance, -score))[: max(max_per_failure, 0)]
        frame = prepared.frame
        for n, i in enumerate(best, 1):
            pos = int(positions[i])
            record = frame.iloc[pos]
            rows.append(
                {
                    ITERATION: r[ITERATION],
                    "test_id": r["test_id"],
                    "cluster_id": r["signature"],
                    "rank": n,
                    "score": round(float(score[i]), 3),
                    "reasons": reason(int(i)),
                    **{c: record[c] if c in frame else None for c in _LOG_OUT},
                    "offset_s": None if np.isnan(offsets[i]) else round(float(offsets[i]), 3),
                    "in_window": bool(inside[i]),
                    "shared_id": shared.get(pos, ""),
                    "template_id": prepared.template_id[pos] if templates is not None else None,
                    "log_row": pos,
                }
            )
    out = pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))
    if len(out):
        out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True, errors="coerce")
        out["offset_s"] = out["offset_s"].astype("float64")
        for column in ("rank", "log_row"):
            out[column] = out[column].astype("int64")
    return out


def cluster_logs(correlated: pd.DataFrame, *, top: int = 5) -> pd.DataFrame:
    """The records :func:`correlate_logs` kept, per cluster: those kept for most of its tests first.

    One row per (cluster, record): ``tests`` (how many of the cluster's failing
    tests kept it), the best ``score`` and its ``reasons`` (prefixed with
    ``kept for 5 of 7 failing tests``), ``rank`` within the cluster; ``top``
    records per cluster.
    """
    columns = ["cluster_id", "rank", "tests", "score", "reasons", *_LOG_OUT, "log_row"]
    if correlated.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    keys = ["cluster_id", "log_row"]
    if ITERATION in correlated:
        keys.insert(1, ITERATION)
    total = correlated.groupby("cluster_id")["test_id"].nunique()
    best = correlated.sort_values("score", ascending=False, kind="stable").drop_duplicates(keys)
    counts = correlated.groupby(keys)["test_id"].nunique().rename("tests").reset_index()
    merged = best.drop(columns=["rank"]).merge(counts, on=keys)
    merged["reasons"] = [
        f"kept for {n} of {total[c]} failing tests; {why}"
        for n, c, why in zip(merged["tests"], merged["cluster_id"], merged["reasons"], strict=True)
    ]
    merged = merged.sort_values(
        ["cluster_id", "tests", "score", "log_row"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    merged["rank"] = merged.groupby("cluster_id").cumcount() + 1
    merged = merged[merged["rank"] <= top]
    return merged[[c for c in columns if c in merged]].reset_index(drop=True)
