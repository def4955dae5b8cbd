"""Analysis: frames in, frames (or plain data) out; no network, subprocess or notebook code.

- :mod:`.categories`, :mod:`.signatures`: the labels every test row carries
- :mod:`.summary`: counts and pass rates, log records by level
- :mod:`.flaky`: what reruns say (consistent, flaky, fixed)
- :mod:`.evidence`, :mod:`.rules`, :mod:`.findings`: probe results, reruns,
  tests and logs turned into findings with their evidence
- :mod:`.clusters`: failures grouped by signature, within an iteration and across them
- :mod:`.correlate`: the log records around each failure, most telling first
- :mod:`.compare`: new failures, fixed, still failing, regressed between iterations
- :mod:`.history`: flakiness from history (flip rate, Allure's rule) and retries
- :mod:`.verdict`: the loop's CONTINUE or DONE from explicit exit criteria
- :mod:`.templates`: log templates (:mod:`.templates_mask`, :mod:`.templates_group`);
  :mod:`.templates_diff`: a template table per iteration, what changed since the last;
  :mod:`.templates_failures`: the templates that come with failing tests

Probe results are read as data (:mod:`whyloop.results`), never by importing
the probes.
"""

from whyloop.analyze.clusters import cluster_failures, cluster_sizes
from whyloop.analyze.compare import IterationDiff, compare_iterations, compare_stored
from whyloop.analyze.correlate import cluster_logs, correlate_logs
from whyloop.analyze.findings import Finding, derive_findings, findings_frame
from whyloop.analyze.flaky import Signals, classify_reruns
from whyloop.analyze.history import flakiness
from whyloop.analyze.summary import summarize_logs, summarize_tests
from whyloop.analyze.templates import mine_templates
from whyloop.analyze.templates_diff import TemplateChange, template_diff, template_table
from whyloop.analyze.templates_failures import failure_templates
from whyloop.analyze.verdict import (
    Criterion,
    CriterionKind,
    LoopVerdict,
    load_criteria,
    loop_verdict,
)

__all__ = [
    "Criterion",
    "CriterionKind",
    "Finding",
    "IterationDiff",
    "LoopVerdict",
    "Signals",
    "TemplateChange",
    "classify_reruns",
    "cluster_failures",
    "cluster_logs",
    "cluster_sizes",
    "compare_iterations",
    "compare_stored",
    "correlate_logs",
    "derive_findings",
    "failure_templates",
    "findings_frame",
    "flakiness",
    "load_criteria",
    "loop_verdict",
    "mine_templates",
    "summarize_logs",
    "summarize_tests",
    "template_diff",
    "template_table",
]
