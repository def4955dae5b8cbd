"""The claims a WebSocket diagnosis may not make against its own evidence, checked in one place.

Every test of the probe, on hand-built observations and on real servers,
passes its result through :func:`assert_no_contradiction`: a conclusion must
follow from the observations printed beside it.
"""

from __future__ import annotations

import json
import re

from whyloop.results import ProbeResult, Stage

_PROXY_BLAME = re.compile(r"did not forward the upgrade|proxy_set_header|a proxy stripping")
_PROXY_EVIDENCE = re.compile(
    r"(?i)\b(nginx|openresty|envoy|haproxy|cloudflare|awselb|elb|apache|caddy|traefik|istio|"
    r"google frontend|gfe|varnish|squid|akamai|cloudfront|kong|azure)\b"
)


def assert_no_contradiction(result: ProbeResult | dict, *secrets: str) -> dict:
    """Fail when the diagnosis claims what its evidence contradicts; return the ``--json`` dict.

    ``result`` is a ProbeResult or its ``to_dict()`` (what ``probe ws --json``
    prints). ``secrets`` (tokens, cookie values) must appear nowhere in it.
    """
    data = result.to_dict() if isinstance(result, ProbeResult) else result
    if isinstance(result, ProbeResult):  # the probe masks secrets itself: redaction finds none
        assert data["diagnosis"] == result.diagnosis, "redaction changed the diagnosis"
    text = json.dumps(data)
    for secret in secrets:
        assert secret not in text, "a secret leaked into the result"
    d = data["diagnosis"]
    stages = {s["name"]: s for s in data["stages"]}
    rows = {r["method"]: r for r in data.get("auth_matrix") or []}
    accepted = {m for m, r in rows.items() if r["accepted"]}
    if accepted - {"none"}:
        assert "refused however it is sent" not in d, d
    none = rows.get("none")
    if none is not None and not none["accepted"]:
        assert "not authenticated" not in d, d
    if accepted & {"subprotocol", "query", "cookie"}:
        assert "browser clients will fail" not in d, d
    auth = stages.get("auth")
    if auth is not None and auth["detail"].get("sent"):
        assert "no credential needed" not in auth["detail"]["summary"]
        assert "no credential sent" not in auth["detail"]["summary"]
        assert "none was sent" not in d, d
    if "works end to end" in d:
        assert data["ok"], d
    upgrade = stages.get("upgrade")
    statuses = {r["status"] for r in rows.values()}
    if upgrade is not None:
        statuses.add(upgrade["detail"].get("status"))
    if 101 in statuses:
        assert "does not speak HTTP" not in d, d
    if _PROXY_BLAME.search(d):
        headers = upgrade["detail"].get("response_headers", {}) if upgrade else {}
        shown = " ".join(f"{k}: {v}" for k, v in headers.items() if k.lower() in ("server", "via"))
        assert _PROXY_EVIDENCE.search(shown) or "via" in shown.lower(), d
    if data["failed_stage"] == Stage.SUBPROTOCOL.value:
        assert "refused the credential" not in d and "refused however" not in d, d
    failed = stages.get(data["failed_stage"] or "")
    if failed is not None and failed["detail"].get("close_code") is not None:
        assert str(failed["detail"]["close_code"]) in d, d
    return data
