"""Test categories: which part of the system a test exercises ("WebSocket", "Agent Infrastructure").

A category comes from, in order: the user's mapping rules (first match wins, as
Allure's categories do), a ``category`` property the test recorded, a pytest
marker, the test class, and finally the file or suite. Every row records which
of these placed it (``category_rule``), so a surprising category can be traced.

A mapping file is YAML (or JSON): a list of rules, each naming a category and
one or more conditions that must all hold::

    - category: WebSocket
      test_id: "*websocket*"            # glob on the test id (default)
    - category: Auth
      message: "re:(401|403|jwt)"       # "re:" makes it a regular expression
    - category: Infrastructure
      traceback: "re:ConnectionRefused"
      outcomes: [failed, error]

Allure's own ``categories.json`` keys (``name``, ``messageRegex``,
``traceRegex``, ``matchedStatuses``) are read too.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from whyloop.errors import ConfigError
from whyloop.ingest.arrow import POOL, factorize, text_array

__all__ = ["CategoryRule", "assign_categories", "load_category_rules"]

# markers pytest and its common plugins define; they say how a test runs, not what it tests
BUILTIN_MARKERS = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "parametrize",
        "usefixtures",
        "filterwarnings",
        "flaky",
        "timeout",
        "asyncio",
        "anyio",
        "trio",
        "category",
        "order",
        "slow",
        "django_db",
    }
)

_FIELDS = {"test_id": "test_id", "test_name": "name", "message": "message", "traceback": "details"}
_ALLURE = {"messageRegex": "message", "traceRegex": "traceback"}


@dataclass(frozen=True)
class CategoryRule:
    """One mapping rule: every condition in ``match`` must hold for the row to get ``category``.

    ``match`` maps a field (test_id, test_name, message, traceback) to a glob, or to
    a regular expression when it starts with ``re:``. ``outcomes`` limits the
    rule to rows with those outcomes.
    """

    category: str
    match: dict[str, str] = field(default_factory=dict)
    outcomes: tuple[str, ...] = ()
    index: int = 0

    def describe(self) -> str:
        conds = ", ".join(f"{k} {v!r}" for k, v in self.match.items())
        if self.outcomes:
            conds += (", " if conds else "") + "outcome in " + "/".join(self.outcomes)
        return f"rule {self.index + 1}: {conds or 'always'}"

    def mask(self, df: pd.DataFrame) -> pd.Series:
        """Return a boolean Series: the rows of ``df`` this rule matches.

        Each pattern is tried once per distinct value, not once per row.
        """
        hit = np.ones(len(df), dtype=bool)
        for key, pattern in self.match.items():
            if pattern.startswith("re:"):
                finder = re.compile(pattern[3:], re.S).search
            else:
                finder = re.compile(fnmatch.translate(pattern)).match
            codes, uniques = factorize(text_array(df[_FIELDS[key]]))
            found = np.fromiter((finder(v) is not None for v in uniques), bool, len(uniques))
            hit &= found[codes]
        if self.outcomes:
            hit &= df["outcome"].isin(self.outcomes).to_numpy(dtype=bool)
        return pd.Series(hit, index=df.index)


def _rule(raw: Any, index: int, where: str) -> CategoryRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"rule {index + 1} is not a mapping", path=where)
    name = raw.get("category", raw.get("name"))
    if not name:
        raise ConfigError(f"rule {index + 1} has no 'category' (or 'name')", path=where)
    match: dict[str, str] = {}
    for key, value in raw.items():
        if key in _FIELDS:
            match[key] = str(value)
        elif key in _ALLURE:
            match[_ALLURE[key]] = "re:" + str(value)
        elif key in ("category", "name", "outcomes", "matchedStatuses", "description"):
            continue
        else:
            allowed = ", ".join([*_FIELDS, "outcomes"])
            raise ConfigError(
                f"rule {index + 1}: unknown field {key!r} (use {allowed})", path=where
            )
    for key, value in match.items():
        if value.startswith("re:"):
            try:
                re.compile(value[3:])
            except re.error as exc:
                raise ConfigError(f"rule {index + 1}: {key} regex: {exc}", path=where) from None
    outcomes = raw.get("outcomes", raw.get("matchedStatuses")) or ()
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    # Allure says "broken" for what we call error
    outcomes = tuple("error" if o == "broken" else str(o) for o in outcomes)
    return CategoryRule(category=str(name), match=match, outcomes=outcomes, index=index)


def load_category_rules(source: str | Path | list[dict[str, Any]]) -> list[CategoryRule]:
    """Read category rules from a YAML/JSON file (or a list of dicts), in order.

    Raises ConfigError naming the file and the rule when a rule is malformed.
    """
    where = "<rules>"
    if isinstance(source, (str, Path)):
        where = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read category rules: {exc.strerror}", path=where) from None
        try:
            data = yaml.safe_load(text) if not where.endswith(".json") else json.loads(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            raise ConfigError(
                f"invalid rules file: {str(exc).splitlines()[0]}",
                path=where,
                line=line + 1 if line is not None else getattr(exc, "lineno", None),
            ) from None
    else:
        data = source
    if isinstance(data, dict) and "categories" in data:
        data = data["categories"]
    if not isinstance(data, list):
        raise ConfigError("category rules must be a list of rules", path=where)
    return [_rule(raw, i, where) for i, raw in enumerate(data)]


def _from_property(props: str) -> tuple[str, str] | None:
    try:
        value = json.loads(props).get("category")
    except (ValueError, AttributeError):
        return None
    return (str(value), "property category") if value else None


def _from_markers(markers: str) -> tuple[str, str] | None:
    for marker in markers.split(","):
        marker = marker.strip()
        if marker and marker not in BUILTIN_MARKERS:
            return marker, f"marker {marker}"
    return None


def _from_class(classname: str) -> tuple[str, str] | None:
    last = classname.rsplit(".", 1)[-1]
    return (last[4:], "class") if last.startswith("Test") and len(last) > 4 else None


def _from_suite(suite: str) -> tuple[str, str] | None:
    return (suite, "suite") if suite else None


def _from_file(file: str) -> tuple[str, str]:
    return (Path(file).name, "file") if file else ("uncategorised", "file")


Decide = Callable[[str], "tuple[str, str] | None"]
Keep = Callable[[pa.Array], pa.Array]
#: the fallbacks in order: (column, which values can decide at all (cheap, in Arrow), decide,
#: structural). A row's own signal (a category property, a marker) decides row by row; the
#: structural levels (class, suite, file) decide only when one level can place every row
#: left, so the categories of one frame are all classes, all suites or all files.
_FALLBACKS: tuple[tuple[str, Keep | None, Decide, bool], ...] = (
    ("properties", lambda a: pc.match_substring(a, '"category"'), _from_property, False),
    ("markers", lambda a: pc.not_equal(a, ""), _from_markers, False),
    ("classname", lambda a: pc.match_substring(a, "Test"), _from_class, True),
    ("suite", lambda a: pc.not_equal(a, ""), _from_suite, True),
    ("file", None, _from_file, True),
)


def _fall_back(df: pd.DataFrame, todo: np.ndarray, category: np.ndarray, why: np.ndarray) -> None:
    """Fill ``category`` and ``why`` where ``todo`` from the first fallback that decides.

    Each fallback runs once per distinct value among the rows still to do, so
    100,000 rows from 2,000 classes cost 2,000 calls; rows sharing a value
    share its strings.
    """
    for column, can_decide, decide, structural in _FALLBACKS:
        rows = np.flatnonzero(todo)
        if not len(rows):
            return
        values = text_array(df[column])
        if len(rows) < len(values):
            values = pc.take(values, rows, memory_pool=POOL)
        if can_decide is not None:
            keep = can_decide(values).to_numpy(zero_copy_only=False)
            if not keep.any() or (structural and not keep.all()):
                continue
            if not keep.all():  # (filtering copies the column even when it keeps every row)
                values, rows = pc.filter(values, keep, memory_pool=POOL), rows[keep]
        codes, uniques = factorize(values)
        names = np.empty(len(uniques), dtype=object)
        reasons = np.empty(len(uniques), dtype=object)
        decided = np.zeros(len(uniques), dtype=bool)
        for i, value in enumerate(uniques):
            pair = decide(value)
            if pair is not None:
                names[i], reasons[i] = pair
                decided[i] = True
        if structural and not decided.all():
            continue
        hit = decided[codes]
        codes, rows = codes[hit], rows[hit]
        category[rows] = names[codes]
        why[rows] = reasons[codes]
        todo[rows] = False


def assign_categories(df: pd.DataFrame, rules: list[CategoryRule] | None = None) -> pd.DataFrame:
    """Fill ``category`` and ``category_rule`` for a tests frame and return it.

    Rows no rule matches fall back to a recorded ``category`` property or a
    non-builtin marker, then to one structural level for all the rest: the
    ``TestX`` class when every such row has one, else the suite, else the file.
    """
    category = np.full(len(df), "", dtype=object)
    why = np.full(len(df), "", dtype=object)
    todo = np.ones(len(df), dtype=bool)
    for rule in rules or []:
        if not todo.any():
            break
        hit = rule.mask(df).to_numpy(dtype=bool) & todo
        category[hit] = rule.category
        why[hit] = rule.describe()
        todo &= ~hit
    _fall_back(df, todo, category, why)
    df["category"] = pd.Series(category, index=df.index, dtype=object)
    df["category_rule"] = pd.Series(why, index=df.index, dtype=object)
    return df
