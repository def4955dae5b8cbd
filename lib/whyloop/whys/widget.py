"""The five-whys view for JupyterLab: a thin ipywidgets face on :class:`~.view.WhysViewModel`.

Shows the tree (a list of steps), the evidence behind the selected step, and
lets the engineer add a because, ask a why under one, attach evidence,
change a status and save. Every handler calls the view-model and redraws;
the handlers are methods (``on_add``, ``on_ask``, ``on_attach``,
``on_status``, ``on_save``) so tests click them without a browser::

    from whyloop import whys
    view = whys.show(whys.load("data/whys/staging/staging-3.yaml"))
    view   # the last expression of a cell displays it
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from whyloop.whys.model import Analysis, StepStatus
from whyloop.whys.view import WhysViewModel

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["WhysWidget", "show"]


def _html(lines: list[str], title: str) -> str:
    body = "<br>".join(html.escape(line) for line in lines) or "<i>none</i>"
    return f"<b>{html.escape(title)}</b><br>{body}"


class WhysWidget:
    """The widgets and their handlers; ``box`` is what the notebook displays."""

    def __init__(self, model: WhysViewModel) -> None:
        self.model = model
        self.tree = widgets.Select(options=[], rows=14, layout=widgets.Layout(width="100%"))
        self.detail = widgets.HTML()
        self.evidence = widgets.HTML()
        self.message = widgets.HTML()
        self.because_text = widgets.Text(placeholder="because ... (a hypothesis)")
        self.question_text = widgets.Text(placeholder="Why ...? (asked under the selected because)")
        self.evidence_text = widgets.Text(
            placeholder="test:ID, probe:STAGE, store:..., file:..., a note"
        )
        self.status = widgets.Dropdown(options=[s.value for s in StepStatus], description="status")
        self.note_text = widgets.Text(placeholder="note (why the status changed)")
        buttons = {
            "add": ("Add because", self.on_add),
            "ask": ("Ask why", self.on_ask),
            "attach": ("Attach evidence", self.on_attach),
            "status": ("Set status", self.on_status),
            "save": ("Save", self.on_save),
        }
        self.buttons: dict[str, widgets.Button] = {}
        for key, (label, handler) in buttons.items():
            button = widgets.Button(description=label)
            button.on_click(handler)
            self.buttons[key] = button
        self.tree.observe(self.on_select, names="value")
        row = widgets.HBox
        self.box = widgets.VBox(
            [
                self.tree,
                row([self.detail, self.evidence]),
                row([self.because_text, self.buttons["add"]]),
                row([self.question_text, self.buttons["ask"]]),
                row([self.evidence_text, self.buttons["attach"]]),
                row([self.status, self.note_text, self.buttons["status"]]),
                row([self.buttons["save"], self.message]),
            ]
        )
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the view-model: the tree, the selection's detail and evidence, the message."""
        m = self.model
        self.tree.unobserve(self.on_select, names="value")
        self.tree.options = m.options()
        self.tree.value = m.selected or None
        self.tree.observe(self.on_select, names="value")
        self.detail.value = _html(m.detail(), "Step")
        self.evidence.value = _html(m.evidence(), "Evidence")
        self.message.value = html.escape(m.message)
        step = m.selected_step()
        if step is not None:
            self.status.value = step.status.value

    # -- handlers (each takes the widget that fired, as ipywidgets passes it) ------------
    def on_select(self, change: Any = None) -> None:
        if change is not None and change.get("new"):
            self.model.select(change["new"])
        self.refresh()

    def on_add(self, _: Any = None) -> None:
        if self.model.add_because(self.because_text.value):
            self.because_text.value = ""
        self.refresh()

    def on_ask(self, _: Any = None) -> None:
        if self.model.ask(self.question_text.value):
            self.question_text.value = ""
        self.refresh()

    def on_attach(self, _: Any = None) -> None:
        if self.model.attach(self.evidence_text.value):
            self.evidence_text.value = ""
        self.refresh()

    def on_status(self, _: Any = None) -> None:
        if self.model.set_status(self.status.value, self.note_text.value):
            self.note_text.value = ""
        self.refresh()

    def on_save(self, _: Any = None) -> None:
        self.model.save()
        self.refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)


def show(analysis: Analysis, *, store: Store | None = None, by: str | None = None) -> WhysWidget:
    """The view of ``analysis`` (evidence looked up in ``store`` when given); display it."""
    return WhysWidget(WhysViewModel(analysis, store=store, by=by))
