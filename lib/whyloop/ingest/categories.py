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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from whyloop.errors import ConfigError

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
        """Return a boolean Series: the rows of ``df`` this rule matches."""
        hit = pd.Series(True, index=df.index)
        for key, pattern in self.match.items():
            column = df[_FIELDS[key]].fillna("").astype(str)
            if pattern.startswith("re:"):
                rx = re.compile(pattern[3:], re.S)
            else:
                rx = re.compile(fnmatch.translate(pattern))
            finder = rx.search if pattern.startswith("re:") else rx.match
            hit &= pd.Series([finder(v) is not None for v in column], index=df.index)
        if self.outcomes:
            hit &= df["outcome"].astype(str).isin(self.outcomes)
        return hit


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


def _default(
    row_props: str, markers: str, classname: str, suite: str, file: str
) -> tuple[str, str]:
    if row_props and '"category"' in row_props:
        try:
            value = json.loads(row_props).get("category")
        except (ValueError, AttributeError):
            value = None
        if value:
            return str(value), "property category"
    for marker in (markers or "").split(","):
        marker = marker.strip()
        if marker and marker not in BUILTIN_MARKERS:
            return marker, f"marker {marker}"
    last = (classname or "").rsplit(".", 1)[-1]
    if last.startswith("Test") and len(last) > 4:
        return last[4:], "class"
    if suite:
        return suite, "suite"
    return Path(file).name if file else "uncategorised", "file"


def assign_categories(df: pd.DataFrame, rules: list[CategoryRule] | None = None) -> pd.DataFrame:
    """Fill ``category`` and ``category_rule`` for a tests frame and return it.

    Rows no rule matches fall back to a recorded ``category`` property, a
    non-builtin marker, the ``TestX`` class, then the suite or file.
    """
    category = pd.Series("", index=df.index, dtype=object)
    why = pd.Series("", index=df.index, dtype=object)
    todo = pd.Series(True, index=df.index)
    for rule in rules or []:
        if not todo.any():
            break
        hit = rule.mask(df.loc[todo]).reindex(df.index, fill_value=False) & todo
        category[hit] = rule.category
        why[hit] = rule.describe()
        todo &= ~hit
    if todo.any():
        rest = df.loc[todo]
        pairs = [
            _default(p, m, c, s, f)
            for p, m, c, s, f in zip(
                rest["properties"].fillna(""),
                rest["markers"].fillna(""),
                rest["classname"].fillna(""),
                rest["suite"].fillna(""),
                rest["file"].fillna(""),
                strict=True,
            )
        ]
        category[todo] = [p[0] for p in pairs]
        why[todo] = [p[1] for p in pairs]
    df["category"] = category
    df["category_rule"] = why
    return df
