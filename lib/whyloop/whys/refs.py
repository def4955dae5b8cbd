"""Evidence references into the iteration store, and what they point at now.

A store reference names rows of one table of one iteration::

    store:LOOP/ITERATION/TABLE                 the whole table
    store:LOOP/ITERATION/TABLE#row=12          one row, by position
    store:LOOP/ITERATION/TABLE#stage=welcome   rows whose column equals a value
    store:LOOP/ITERATION/TABLE#message~locked  rows whose column contains a text (any case)

Conditions join with ``&``; in values, ``%``, ``&``, ``#``, ``=`` and ``~`` are
written ``%25``, ``%26``, ``%23``, ``%3D`` and ``%7E`` (nothing else is
escaped, so test ids and log text stay readable). :func:`resolve` never fails
on a reference whose target is gone: it says so (``gone: iteration 4 has no
table probes``), because an analysis outlives the iterations it cites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import pandas as pd

from whyloop.errors import StoreError, WhysError

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["RefState", "Resolution", "StoreRef", "resolve"]

_REF = re.compile(r"^store:([^/#]+)/([^/#]+)/([^/#]+)(?:#(.*))?$")
_COND = re.compile(r"^([^=~]+)([=~])(.*)$")
_ESCAPES = {"%": "%25", "&": "%26", "#": "%23", "=": "%3D", "~": "%7E"}


def _escape(value: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in value)


def _unescape(value: str) -> str:
    for ch, code in reversed(_ESCAPES.items()):
        value = value.replace(code, ch).replace(code.lower(), ch)
    return value


class RefState(StrEnum):
    """What became of a reference's target."""

    FOUND = "found"  # the rows are there
    GONE = "gone"  # the loop, iteration, table, column or rows are not (any more)
    UNCHECKED = "unchecked"  # not a store reference (a file, a commit, a note): not looked up


@dataclass(frozen=True)
class StoreRef:
    """A parsed ``store:`` reference; ``str()`` writes it back in the form it was read."""

    loop: str
    iteration: str
    table: str
    #: column -> value that must be equal; a column ending in ``~`` must contain it
    where: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, ref: str) -> StoreRef:
        """Parse ``store:LOOP/ITERATION/TABLE[#key]``; WhysError naming what is wrong."""
        match = _REF.match(str(ref).strip())
        if match is None:
            raise WhysError(
                f"{ref!r} is not a store reference (store:LOOP/ITERATION/TABLE[#column=value])"
            )
        loop, iteration, table, key = match.groups()
        where: dict[str, str] = {}
        for part in (key or "").split("&") if key else []:
            cond = _COND.match(part)
            if cond is None:
                raise WhysError(f"{ref!r}: {part!r} is not column=value or column~text")
            column, op, value = cond.groups()
            where[_unescape(column) + ("~" if op == "~" else "")] = _unescape(value)
        return cls(loop, iteration, table, where)

    def __str__(self) -> str:
        conds = [
            f"{_escape(c[:-1])}~{_escape(v)}" if c.endswith("~") else f"{_escape(c)}={_escape(v)}"
            for c, v in self.where.items()
        ]
        key = "#" + "&".join(conds) if conds else ""
        return f"store:{self.loop}/{self.iteration}/{self.table}{key}"


@dataclass
class Resolution:
    """What a reference points at now: its state, a one-line message, and the rows when found."""

    ref: str
    state: RefState
    message: str
    rows: pd.DataFrame | None = None

    @property
    def found(self) -> bool:
        return self.state is RefState.FOUND


def _select(df: pd.DataFrame, where: dict[str, str]) -> tuple[pd.Series | None, str]:
    """The rows of ``df`` matching ``where`` as a mask, or None and the column that is missing."""
    mask = pd.Series(True, index=df.index)
    for column, value in where.items():
        if column == "row":
            mask &= pd.Series(range(len(df)), index=df.index) == int(value)
            continue
        contains = column.endswith("~")
        name = column[:-1] if contains else column
        if name not in df.columns:
            return None, name
        text = df[name].astype("string").fillna("")
        if contains:
            mask &= text.str.contains(value, case=False, regex=False)
        else:
            mask &= text == value
    return mask, ""


def resolve(ref: str, store: Store) -> Resolution:
    """Look ``ref`` up in ``store``: FOUND with the rows, GONE saying what is missing, or UNCHECKED.

    Only ``store:`` references are looked up; paths, commits and notes come
    back UNCHECKED (whyloop does not read a repository's history). A bad
    reference (``store:demo/3`` without a table) raises WhysError.
    """
    if not str(ref).startswith("store:"):
        what = "a note" if not ref else f"{ref!r} is not in the store"
        return Resolution(str(ref), RefState.UNCHECKED, f"not looked up: {what}")
    parsed = StoreRef.parse(ref)
    if "row" in parsed.where and not parsed.where["row"].isdigit():
        raise WhysError(f"{ref!r}: row must be a number, not {parsed.where['row']!r}")

    def gone(why: str) -> Resolution:
        return Resolution(str(ref), RefState.GONE, f"gone: {why}")

    try:
        if parsed.iteration not in store.iterations(parsed.loop):
            return gone(f"loop {parsed.loop} has no iteration {parsed.iteration}")
        tables = store.manifest(parsed.loop, parsed.iteration)["tables"]
        if parsed.table not in tables:
            return gone(f"iteration {parsed.iteration} has no table {parsed.table}")
        df = store.read(parsed.loop, parsed.iteration, parsed.table).reset_index(drop=True)
    except StoreError as exc:
        return gone(str(exc))
    mask, missing = _select(df, parsed.where)
    if mask is None:
        return gone(f"table {parsed.table} of iteration {parsed.iteration} has no column {missing}")
    rows = df[mask]
    if rows.empty:
        key = str(parsed).partition("#")[2]
        return gone(f"no row of {parsed.table} in iteration {parsed.iteration} has {key}")
    return Resolution(
        str(ref),
        RefState.FOUND,
        f"found: {len(rows)} row{'s' if len(rows) != 1 else ''} of {parsed.table}",
        rows,
    )
