"""What the notebook view of an analysis shows and does, without any widget: a view-model.

Pure. :class:`WhysViewModel` holds the analysis, the selected step and a
message for the person; its methods are what the buttons of
:class:`whyloop.whys.widget.WhysWidget` do (add a because, ask a why under
one, attach evidence, change a status, save), so tests drive it directly.
A refused action (confirming without evidence, say) sets ``message`` and
returns False instead of raising: a view should tell, not crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from whyloop.errors import WhyloopError
from whyloop.redact import redact_text
from whyloop.whys.model import Analysis, Because, StepStatus, Why, current_user

if TYPE_CHECKING:
    from whyloop.store import Store

__all__ = ["WhysViewModel"]

_SHORT = 90  # characters of a step's text shown in the tree


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return redact_text(text if len(text) <= _SHORT else text[: _SHORT - 3] + "...")


class WhysViewModel:
    """The state behind the five-whys view: the analysis, the selected step, a message.

    ``selected`` is a step address: a why (``"1"``, ``"1.2"`` for the why under
    because 1.2) is written ``"why 1"``; a because is its address (``"1.2"``).
    ``by`` is who makes the changes (default :func:`~whyloop.whys.model.current_user`).
    """

    def __init__(self, analysis: Analysis, *, store: Store | None = None, by: str | None = None):
        self.analysis = analysis
        self.store = store
        self.by = by or current_user()
        self.message = ""
        self.selected = "why 1" if analysis.whys else ""

    # -- what is shown -------------------------------------------------------------
    def options(self) -> list[tuple[str, str]]:
        """(label, key) of every step, in tree order, indented by depth: the tree list."""
        out: list[tuple[str, str]] = []

        def why(w: Why, depth: int) -> None:
            out.append(
                (f"{'    ' * depth}Why {w.address}: {_short(w.question)}", f"why {w.address}")
            )
            for b in w.becauses:
                label = f"{'    ' * (depth + 1)}{b.address} [{b.status.value}] {_short(b.text)}"
                out.append((label, b.address))
                if b.why is not None:
                    why(b.why, depth + 2)

        for w in self.analysis.whys:
            why(w, 0)
        return out

    def selected_why(self) -> Why | None:
        """The selected why, or the why the selected because answers."""
        if not self.selected:
            return None
        if self.selected.startswith("why "):
            return self.analysis.why(self.selected.removeprefix("why "))
        head = self.selected.rpartition(".")[0]
        return self.analysis.why(head)

    def selected_step(self) -> Because | None:
        """The selected because (None when a why is selected)."""
        if not self.selected or self.selected.startswith("why "):
            return None
        return self.analysis.step(self.selected)

    def detail(self) -> list[str]:
        """Lines describing the selection: the step, its status and source, history."""
        step = self.selected_step()
        if step is None:
            why = self.selected_why()
            if why is None:
                return ["no step selected"]
            return [
                f"Why {why.address}: {redact_text(why.question)}",
                f"{len(why.becauses)} because(s); tests: {', '.join(why.tests) or '-'}",
            ]
        lines = [f"{step.address} [{step.status.value}] {redact_text(step.text)}"]
        if step.stage:
            lines.append(f"stage: {step.stage}")
        if step.source:
            lines.append(f"from: {redact_text(step.source)}")
        lines += [
            f"{c.status.value} by {redact_text(c.by)} at {c.at}"
            + (f": {redact_text(c.note)}" if c.note else "")
            for c in step.history
        ]
        return lines

    def evidence(self) -> list[str]:
        """The evidence behind the selected because, one line each (looked up when a store is set)."""
        step = self.selected_step()
        if step is None:
            return []
        lines = []
        for n, e in enumerate(step.evidence, 1):
            line = f"{n}. {e.label()}"
            if self.store is not None and e.ref.startswith("store:"):
                try:
                    line += f" [{e.resolve(self.store).message}]"
                except WhyloopError as exc:
                    line += f" [{exc}]"
            lines.append(redact_text(line))
        return lines

    # -- what the buttons do -------------------------------------------------------
    def select(self, key: str) -> bool:
        """Select a step by its key in :meth:`options` (``"why 1"``, ``"1.2"``)."""
        if key not in {k for _, k in self.options()}:
            self.message = f"no step {key}"
            return False
        self.selected, self.message = key, ""
        return True

    def _act(self, action: Callable[[], str]) -> bool:
        try:
            self.message = action()
        except WhyloopError as exc:
            self.message = str(exc)
            return False
        return True

    def add_because(self, text: str, evidence: str = "") -> bool:
        """Add a because (a hypothesis) to the selected why, or beside the selected because."""

        def add() -> str:
            why = self.selected_why()
            if why is None or not text.strip():
                raise WhyloopError("select a why and type the because first")
            new = why.because(text.strip(), evidence=evidence.strip() or None)
            self.selected = new.address
            return f"added because {new.address} (a hypothesis)"

        return self._act(add)

    def ask(self, question: str) -> bool:
        """Ask a why under the selected because."""

        def ask() -> str:
            step = self.selected_step()
            if step is None or not question.strip():
                raise WhyloopError("select a because and type the question first")
            why = step.ask(question.strip())
            self.selected = f"why {why.address}"
            return f"asked why {why.address}"

        return self._act(ask)

    def attach(self, evidence: str) -> bool:
        """Attach evidence (a string :meth:`Evidence.parse` reads) to the selected because."""

        def attach() -> str:
            step = self.selected_step()
            if step is None or not evidence.strip():
                raise WhyloopError("select a because and type the evidence first")
            step.attach(evidence.strip())
            return f"attached evidence {len(step.evidence)} to {step.address}"

        return self._act(attach)

    def set_status(self, status: StepStatus | str, note: str = "") -> bool:
        """Confirm, refute or reopen the selected because, as ``by``."""

        def change() -> str:
            step = self.selected_step()
            if step is None:
                raise WhyloopError("select a because first")
            wanted = StepStatus(status)
            if wanted is StepStatus.CONFIRMED:
                step.confirm(by=self.by, note=note)
            elif wanted is StepStatus.REFUTED:
                step.refute(by=self.by, note=note)
            else:
                step.reopen(by=self.by, note=note)
            return f"{step.address} is now {wanted.value}"

        return self._act(change)

    def save(self) -> bool:
        """Save the analysis to its file."""
        return self._act(lambda: f"saved {self.analysis.save()}")
