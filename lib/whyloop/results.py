"""What a probe returns: stages with timings and details, a verdict, a diagnosis and evidence.

Pure data; the probes fill it, :mod:`whyloop.probes.ws.judge` decides
``failed_stage`` and writes the diagnosis, and :meth:`ProbeResult.to_dict`
gives the ``--json`` shape. Everything here is redacted before it leaves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from whyloop.redact import redact_json, redact_text
from whyloop.schema import Stage

__all__ = ["AuthAttempt", "ProbeResult", "Stage", "StageResult"]


@dataclass
class StageResult:
    """One stage: did it pass, how long it took, and what was observed (JSON-able values)."""

    name: Stage
    ok: bool
    ms: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "ok": self.ok,
            "ms": None if self.ms is None else round(self.ms, 2),
            "detail": _redact(self.detail),
        }


@dataclass
class AuthAttempt:
    """One row of the auth matrix: how the credential was sent, and what the server did."""

    method: str  # "none", "header", "subprotocol", "query"
    accepted: bool
    status: int | None = None
    close_code: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return _redact(asdict(self))


@dataclass
class ProbeResult:
    """The outcome of one probe of one target; ``to_dict()`` is the ``--json`` object."""

    target: str
    kind: str  # "ws" or "http"
    stages: list[StageResult] = field(default_factory=list)
    failed_stage: Stage | None = None
    diagnosis: str = ""
    evidence: list[str] = field(default_factory=list)
    auth_matrix: list[AuthAttempt] | None = None

    @property
    def ok(self) -> bool:
        return self.failed_stage is None

    def stage(self, name: Stage) -> StageResult | None:
        """The result of stage ``name``, or None when it did not run."""
        return next((s for s in self.stages if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": redact_text(self.target),
            "kind": self.kind,
            "ok": self.ok,
            "failed_stage": self.failed_stage.value if self.failed_stage else None,
            "stages": [s.to_dict() for s in self.stages],
            "diagnosis": redact_text(self.diagnosis),
            "evidence": [redact_text(e) for e in self.evidence],
        }
        if self.auth_matrix is not None:
            out["auth_matrix"] = [a.to_dict() for a in self.auth_matrix]
        return out


def _redact(value: Any) -> Any:
    """Redact a JSON-able structure: secret-named keys (headers among them) masked, text scanned."""
    return redact_json(value)
