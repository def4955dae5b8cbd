"""The CORS stage of an HTTP probe: what the preflight and the response allow (pure).

Used by :mod:`.judge`; takes the recorded :class:`~.observations.Preflight`
and the response headers, returns the stage and why it failed ("" when it passed).
"""

from __future__ import annotations

from typing import Any

from whyloop.probes.http.observations import HttpObservation
from whyloop.results import Stage, StageResult

__all__ = ["cors_stage"]


def cors_stage(obs: HttpObservation) -> tuple[StageResult, str]:
    """The CORS stage from the preflight and the response; ``why`` is "" when it passed."""
    pf = obs.preflight
    assert pf is not None
    h = {k.lower(): v for k, v in pf.headers.items()}
    allow_origin = h.get("access-control-allow-origin")
    methods = [m.strip().upper() for m in h.get("access-control-allow-methods", "").split(",")]
    credentials = h.get("access-control-allow-credentials", "").lower() == "true"
    main_origin = obs.headers.get("access-control-allow-origin")
    origin_ok = allow_origin in (pf.origin, "*")
    method_ok = pf.request_method.upper() in methods or "*" in methods
    simple = pf.request_method.upper() in ("GET", "HEAD", "POST")
    detail: dict[str, Any] = {
        "origin": pf.origin,
        "request_method": pf.request_method,
        "request_headers": pf.request_headers,
        "preflight_status": pf.status,
        "allow_origin": allow_origin,
        "allow_methods": h.get("access-control-allow-methods"),
        "allow_headers": h.get("access-control-allow-headers"),
        "allow_credentials": credentials,
        "response_allow_origin": main_origin,
    }
    why = ""
    if pf.error:
        why = f"the CORS preflight (OPTIONS) got no answer: {pf.error}"
    elif (pf.status is None or not 200 <= pf.status < 300) and not h:
        why = (
            f"the CORS preflight (OPTIONS) answered {pf.status} with no Access-Control-* "
            "headers: the server has no CORS handling here"
        )
    elif pf.status is None or not 200 <= pf.status < 300:
        why = f"the CORS preflight (OPTIONS) was refused with {pf.status}" + (
            f": origin {pf.origin!r} is not in the server's CORS allow list"
            if not origin_ok
            else f" although it allows the origin: the method {pf.request_method} or the "
            f"headers ({pf.request_headers or 'none'}) are not allowed (Allow-Methods "
            f"{h.get('access-control-allow-methods')!r}, Allow-Headers "
            f"{h.get('access-control-allow-headers')!r})"
        )
    elif not origin_ok:
        why = (
            f"origin {pf.origin!r} is not allowed: the preflight's Access-Control-Allow-Origin is "
            f"{allow_origin!r}; add the origin to the server's CORS allow list"
        )
    elif not method_ok and not simple:
        why = (
            f"method {pf.request_method} is not in Access-Control-Allow-Methods "
            f"({h.get('access-control-allow-methods')!r})"
        )
    elif allow_origin == "*" and credentials:
        why = "Access-Control-Allow-Origin '*' with credentials: browsers refuse that combination"
    elif obs.status is not None and main_origin not in (pf.origin, "*"):
        why = (
            f"the preflight allows {pf.origin!r} but the response itself carries "
            f"Access-Control-Allow-Origin {main_origin!r}, so the browser drops it"
        )
    detail["origin_allowed"] = not why
    return StageResult(Stage.CORS, not why, pf.ms, detail), why
