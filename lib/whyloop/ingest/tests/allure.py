"""Allure result files: ``*-result.json`` (and ``*-container.json``) in an ``allure-results/`` folder.

Every Allure adapter (allure-pytest, allure-junit5, allure-jest,
allure-playwright, allure-cypress, ...) writes one ``<uuid>-result.json``
per test execution, with ``status``, ``statusDetails``, ``start``/``stop``
(epoch milliseconds) and ``labels``. Read the folder (or a glob of its
``*-result.json``); each result file is one row:

* **Outcome** as Allure defines its statuses: ``passed``; ``failed`` (an
  assertion failed) failed; ``broken`` (the test threw something other than
  an assertion error, or its fixture did) error; ``skipped`` skipped;
  ``unknown`` (no result was recorded: the test was interrupted) error.
  allure-pytest writes an expected failure as ``skipped`` with an
  ``XFAIL`` message and an unexpected pass as ``passed`` with ``XPASS``: those
  are ``xfailed`` and ``xpassed``. Allure's status is kept in
  ``properties["allure_status"]`` when it is not the outcome's name.
* **Names.** ``classname`` is the part of ``fullName`` before ``#``
  (allure-pytest's module and class), else the ``testClass``, ``package`` or
  ``suite`` label; ``name`` is ``name``; ``suite`` the ``suite`` label.
  ``tag`` labels are ``markers``; ``feature``, ``story``, ``epic``,
  ``severity``, ``owner`` and ``host`` labels and the parameters go into
  ``properties``, with the ``historyId`` that ties executions of one test.
* A ``*-container.json`` holds fixtures (``befores``/``afters``) of the
  results it lists, not results: it reads as no rows. A result whose fixture
  failed is itself ``broken``.

Each result file is one execution: when a test ran twice (a rerun), its two
files are both ``rerun`` 0 in their files; ``historyId`` says they are the
same test. Allure writes no counts, so nothing is declared.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from whyloop.errors import IngestError
from whyloop.ingest.tests.contract import ParsedTests
from whyloop.ingest.tests.jsonfmt import (
    clean_text,
    epoch_ms,
    first_line,
    load_document,
    result_row,
)
from whyloop.schema import Outcome, TestFormat

__all__ = ["parse_allure"]

_STATUS = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "broken": Outcome.ERROR,
    "skipped": Outcome.SKIPPED,
    "unknown": Outcome.ERROR,
}
_KEPT_LABELS = ("feature", "story", "epic", "severity", "owner", "host", "parentSuite", "subSuite")


def parse_allure(stream: BinaryIO, path: str) -> ParsedTests:
    """Parse one Allure ``*-result.json`` (one row) or ``*-container.json`` (no rows)."""
    doc = load_document(stream, path, "Allure result")
    if "status" not in doc and doc.keys() & {"children", "befores", "afters"}:
        return ParsedTests(TestFormat.ALLURE, rows=[])  # a container: fixtures, not results
    if "status" not in doc or "name" not in doc:
        raise IngestError("not an Allure result (no 'status' and 'name')", path=path)
    labels: dict[str, list[str]] = {}
    for label in doc.get("labels") or []:
        if isinstance(label, dict) and label.get("name"):
            labels.setdefault(str(label["name"]), []).append(str(label.get("value") or ""))

    def label(name: str) -> str:
        return labels.get(name, [""])[0]

    name = str(doc.get("name") or "")
    full = str(doc.get("fullName") or "")
    classname = full.split("#", 1)[0] if "#" in full else ""
    classname = classname or label("testClass") or label("package") or label("suite")
    status = str(doc.get("status") or "")
    details = doc.get("statusDetails") if isinstance(doc.get("statusDetails"), dict) else {}
    message = clean_text(details.get("message"))
    outcome = _STATUS.get(status)
    warnings = []
    if outcome is None:
        warnings.append(
            f"{path}: Allure status {status!r} is not one Allure defines; read as error"
        )
        outcome = Outcome.ERROR
    if outcome is Outcome.SKIPPED and message.startswith("XFAIL"):
        outcome = Outcome.XFAILED
    elif outcome is Outcome.PASSED and message.startswith("XPASS"):
        outcome = Outcome.XPASSED
    props: dict[str, Any] = {}
    if status != outcome.value:
        props["allure_status"] = status
    for key in _KEPT_LABELS:
        if key in labels:
            props[key] = ",".join(labels[key])
    for param in doc.get("parameters") or []:
        if isinstance(param, dict) and param.get("name"):
            props[f"param:{param['name']}"] = str(param.get("value"))
    if doc.get("historyId"):
        props["historyId"] = str(doc["historyId"])
    if details.get("flaky"):
        props["flaky"] = True
    row = result_row(
        label("suite") or classname,
        classname,
        name,
        outcome,
        start=epoch_ms(doc.get("start")),
        stop=epoch_ms(doc.get("stop")),
        message=first_line(message),
        details="\n".join(filter(None, (message, clean_text(details.get("trace"))))),
        markers=tuple(labels.get("tag", [])),
        properties=props,
    )
    start, stop = row["start"], row["stop"]
    if start is not None and stop is not None and stop >= start:
        row["duration_s"] = (stop - start).total_seconds()
    return ParsedTests(TestFormat.ALLURE, rows=[row], warnings=warnings)
