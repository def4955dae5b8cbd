"""Known causes: a new failure looked up among the analyses and postmortems a team already wrote.

- :mod:`.keys`: the keys failures are compared by (signature words, log line shapes)
- :mod:`.entries`: a past analysis's chains and a new failure, as plain data
- :mod:`.postmortems`: a postmortem as one more entry
- :mod:`.index`: the inverted index from signatures, log shapes and words to chains
- :mod:`.match`: similarity kind by kind, ranking, confidence, regressions
- :mod:`.failures`: the failure clusters of an iteration's tables
- :mod:`.wording`: one line per match, a table, Markdown
- :mod:`.catalog`: reading the files into the index, with a cache (the edge)
- :mod:`.lookup`: a stored iteration, a five-whys file or a results file looked up; a draft

In a notebook::

    from whyloop import known
    known.for_iteration("data/iterations", "staging")      # DataFrame: best match first
    known.section("data/iterations", "staging")            # the same as Markdown
    a = known.draft("data/iterations", "staging")          # five whys starting from them
    a.save()

A match is a precedent, never a confirmed cause: the draft puts it first among
the becauses of its why as a hypothesis, for a person to confirm or refute.
"""

from __future__ import annotations

from whyloop.known.catalog import analysis_files, default_cache, load_index
from whyloop.known.entries import Conclusion, Entry, Failure, Measure, entries_of, failures_of
from whyloop.known.failures import failures_from_tables, failures_from_tests
from whyloop.known.index import KnownIndex
from whyloop.known.lookup import (
    Lookup,
    default_roots,
    draft,
    for_iteration,
    known_causes,
    lookup_file,
    lookup_iteration,
    open_index,
    section,
)
from whyloop.known.match import Match, Similarity, lookup, match
from whyloop.known.wording import describe, matches_frame, to_markdown, to_text

__all__ = [
    "Conclusion",
    "Entry",
    "Failure",
    "KnownIndex",
    "Lookup",
    "Match",
    "Measure",
    "Similarity",
    "analysis_files",
    "default_cache",
    "default_roots",
    "describe",
    "draft",
    "entries_of",
    "failures_from_tables",
    "failures_from_tests",
    "failures_of",
    "for_iteration",
    "known_causes",
    "load_index",
    "lookup",
    "lookup_file",
    "lookup_iteration",
    "match",
    "matches_frame",
    "open_index",
    "section",
    "to_markdown",
    "to_text",
]
