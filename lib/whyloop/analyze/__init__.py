"""Analysis: frames in, frames (or plain data) out; no network, subprocess or notebook code.

- :mod:`.categories`, :mod:`.signatures`: the labels every test row carries
- :mod:`.summary`: counts and pass rates, log records by level
- :mod:`.flaky`: what reruns say (consistent, flaky, fixed)
- :mod:`.evidence`, :mod:`.rules`, :mod:`.findings`: probe results, reruns,
  tests and logs turned into findings with their evidence

Probe results are read as data (:mod:`whyloop.results`), never by importing
the probes.
"""

from whyloop.analyze.findings import Finding, derive_findings, findings_frame
from whyloop.analyze.flaky import classify_reruns
from whyloop.analyze.summary import summarize_logs, summarize_tests

__all__ = [
    "Finding",
    "classify_reruns",
    "derive_findings",
    "findings_frame",
    "summarize_logs",
    "summarize_tests",
]
