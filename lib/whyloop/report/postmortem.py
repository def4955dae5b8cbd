"""A postmortem rendered like the reports: ``notebooks/postmortem.ipynb`` run by papermill.

:func:`render` loads the postmortem file (so a bad file fails fast, naming
its line), runs the notebook with it through the report runner
(:func:`whyloop.report.run.execute`: a failing, hanging or dying section is
shown in its place) and writes into ``out_root/<loop>/postmortem-<id>/``::

    postmortem.ipynb   the executed notebook
    <id>.html          one page without code cells, images and styles inline
    <id>.md            the postmortem as Markdown, for a wiki or a pull request
    kernel.log         what the kernel process itself printed
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from whyloop.errors import ReportError
from whyloop.postmortem import load, to_markdown
from whyloop.report.params import check_params, notebook_params

__all__ = ["PostmortemReport", "notebook_path", "render"]

_NOTEBOOK = ("notebooks", "postmortem.ipynb")


@dataclass(frozen=True)
class PostmortemReport:
    """Where a rendered postmortem was written, and the notebook sections that failed (if any)."""

    out_dir: Path
    notebook: Path
    html: Path
    markdown: Path
    failures: list[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        """0, or 1 when a section of the notebook failed."""
        return 1 if self.failures else 0


def notebook_path() -> Path:
    """The postmortem notebook of the repository this package runs from."""
    path = Path(__file__).resolve().parents[3].joinpath(*_NOTEBOOK)
    if not path.is_file():
        raise ReportError(f"no postmortem notebook at {path}: run whyloop from a clone of it")
    return path


def render(
    postmortem_file: str | Path,
    *,
    out_root: str | Path = "reports",
    out_dir: str | Path | None = None,
    store: str | Path | None = None,
    notebook: str | Path | None = None,
    cell_timeout_s: float = 300,
    kernel_name: str = "python3",
) -> PostmortemReport:
    """Render ``postmortem_file`` into HTML without code and Markdown; see the module doc.

    ``out_dir`` defaults to ``out_root/<loop>/postmortem-<id>``; ``store`` (the
    iteration store) lets the notebook's review check look the evidence up.
    PostmortemError for a bad file; ReportError when no notebook can run.
    """
    from whyloop.report.export import html_page
    from whyloop.report.run import execute

    source = Path(postmortem_file).resolve()
    pm = load(source)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", pm.id):
        raise ReportError(f"{pm.id!r} is not a postmortem id to name files by", path=str(source))
    nb_path = Path(notebook) if notebook is not None else notebook_path()
    folder = Path(out_dir) if out_dir is not None else Path(out_root) / (pm.loop or "adhoc")
    target = (folder if out_dir is not None else folder / f"postmortem-{pm.id}").resolve()
    params = {
        "postmortem_file": str(source),
        "store": None if store is None else str(Path(store).resolve()),
        "report_dir": str(target),
    }
    names = {p.name for p in notebook_params(nb_path)}
    given = check_params({k: v for k, v in params.items() if k in names}, notebook_params(nb_path))
    ran = execute(
        nb_path, given, out_dir=target, cell_timeout_s=cell_timeout_s, kernel_name=kernel_name
    )
    html = target / f"{pm.id}.html"
    html.write_text(html_page(ran.nb), encoding="utf-8")
    markdown = target / f"{pm.id}.md"
    markdown.write_text(to_markdown(pm), encoding="utf-8")
    failures = [f"{f.section or '(untitled)'}: {f.kind}: {f.message}" for f in ran.failures]
    return PostmortemReport(target, ran.path, html, markdown, failures)
