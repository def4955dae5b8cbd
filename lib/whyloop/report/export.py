"""The report's pages: one self-contained HTML page without code, and a Markdown summary.

:func:`html_page` renders an executed notebook with nbconvert, inputs and
prompts left out: images are in the outputs as base64 already and nbconvert's
own styles are inlined, so the page is one file readable without Jupyter.
:func:`markdown_summary` is pure: it renders ``metrics.json``
(:mod:`whyloop.report.outputs` documents the keys) in the shape of a loop
iteration report, for chat and pull requests. :func:`redact_notebook` masks
the secrets an executed notebook may hold as given (its parameters) before
it is written.
"""

from __future__ import annotations

from typing import Any

__all__ = ["html_page", "markdown_summary", "redact_notebook"]

#: output kinds whose text is swept for secrets; HTML is left as the library made it (redacted
#: at the source): a text pattern can run into its markup and break a table
_TEXT_OUTPUTS = ("text/plain", "text/markdown", "application/json")


def html_page(nb: Any) -> str:
    """``nb`` (an executed ``NotebookNode``) as one HTML page without code cells or prompts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def redact_notebook(nb: Any) -> Any:
    """Redact an executed notebook in place before it is written, and return it.

    papermill keeps the parameters twice, as given: in the injected
    parameters cell and in ``metadata.papermill.parameters``; a parameter may
    hold a secret (a log URL with a token, an environment named with its key).
    Both are redacted, and the text outputs are swept too (a cell that printed
    a parameter); HTML outputs are left as the library's redacted frames made them.
    """
    from whyloop.redact import redact_json, redact_text

    papermill = nb.get("metadata", {}).get("papermill")
    if papermill and "parameters" in papermill:
        papermill["parameters"] = redact_json(papermill["parameters"])
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = redact_text(cell.source)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = redact_text(output["text"])
            for kind in _TEXT_OUTPUTS:
                value = output.get("data", {}).get(kind)
                if isinstance(value, str):
                    output["data"][kind] = redact_text(value)
                elif value is not None:
                    output["data"][kind] = redact_json(value)
            if output.get("output_type") == "error":
                output["evalue"] = redact_text(output.get("evalue", ""))
                output["traceback"] = [redact_text(t) for t in output.get("traceback", [])]
    return nb


def _pct(rate: Any) -> str:
    return f"{100 * rate:.1f}%" if isinstance(rate, int | float) else "n/a"


def _counts(row: dict[str, Any]) -> str:
    parts = [f"{row.get(k, 0)} {k}" for k in ("passed", "failed", "errors", "skipped")]
    return f"{row.get('total', 0)} tests: " + ", ".join(parts)


def markdown_summary(metrics: dict[str, Any]) -> str:
    """``metrics`` as a loop iteration report in Markdown: title, totals, categories, clusters, SLA, criteria, errors."""
    loop = metrics.get("loop", "?")
    iteration = metrics.get("iteration", "?")
    status = str(metrics.get("status") or "unknown").upper()
    out = [f"# {loop} — iteration {iteration}: {status}", ""]
    totals = metrics.get("totals") or {}
    if totals:
        line = f"**Pass rate {_pct(totals.get('pass_rate'))}** ({_counts(totals)})"
        if isinstance(metrics.get("target"), int | float):
            line += f"; target {_pct(metrics['target'])}"
        out += [line, ""]
    by_category = metrics.get("by_category") or {}
    if by_category:
        out += ["## By category", "", "| category | pass rate | passed | failed | errors |"]
        out.append("|---|---:|---:|---:|---:|")
        for name, row in sorted(by_category.items()):
            out.append(
                f"| {name} | {_pct(row.get('pass_rate'))} | {row.get('passed', 0)} "
                f"| {row.get('failed', 0)} | {row.get('errors', 0)} |"
            )
        out.append("")
    clusters = metrics.get("clusters") or []
    if clusters:
        out += ["## Failure clusters", ""]
        for c in clusters:
            tests = c.get("tests") or []
            shown = ", ".join(str(t).split("::")[-1] for t in tests[:4])
            more = f", and {len(tests) - 4} more" if len(tests) > 4 else ""
            out.append(f"- **{c.get('size', '?')}×** `{c.get('representative', '?')}`")
            if shown:
                out.append(f"  - {shown}{more}")
        out.append("")
    sla = metrics.get("sla") or []
    if sla:
        out += ["## SLA", ""]
        for s in sla:
            mark = "✅" if s.get("ok") else "❌"
            limit = f" ({s['sla']})" if s.get("sla") else ""
            out.append(
                f"- {mark} {s.get('probe', '?')}/{s.get('check', '?')}: "
                f"{s.get('metric', '')} {s.get('value')}{limit}"
            )
        out.append("")
    criteria = metrics.get("criteria") or []
    if criteria:
        out += ["## Exit criteria", ""]
        for c in criteria:
            figure = f": {c['figure']}" if c.get("figure") not in (None, "") else ""
            detail = f" ({c['detail']})" if c.get("detail") else ""
            out.append(
                f"- [{'x' if c.get('met') else ' '}] {c.get('criterion', '?')}{figure}{detail}"
            )
        out.append("")
    errors = metrics.get("errors") or []
    if errors:
        out += ["## Report sections that failed", ""]
        for e in errors:
            out.append(
                f"- **{e.get('section') or '(untitled)'}** (cell {e.get('cell')}, "
                f"{e.get('kind')}): {e.get('message', '')}"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"
