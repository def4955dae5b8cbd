"""The sentences of the auth stage: what was sent, what a refusal says the endpoint wants (pure).

Used by :mod:`.judge_socket`. A refusal with no credential sent names the
kinds the endpoint may expect, from what the answer shows (a
``WWW-Authenticate`` header, a redirect to a login page, a ``Set-Cookie``)
and says how to pass each; with nothing to go on it lists the common ones.
"""

from __future__ import annotations

import re

from whyloop.probes.ws.observations import WsEvent, WsObservation
from whyloop.probes.ws.protocols import CloseKind, auth_schemes, login_redirect
from whyloop.probes.ws.wording import close_phrase, ms, server_says

__all__ = ["auth_close", "auth_status", "expected_credentials", "sent_phrase"]

_MISSING_TOKEN = re.compile(r"(?i)\b(no|missing)\b[^.]{0,40}\b(token|credential|authori[sz]ation)")
_HOW = {
    "bearer": "a bearer token (--token-env VAR with --auth auto tries it in the Authorization "
    "header, as a subprotocol and as the token query parameter)",
    "basic": "a user and password (--header 'Authorization: Basic <base64 of user:password>')",
    "cookie": "a session cookie (log in, then --cookie NAME=VALUE)",
    "query": "a token in the query (put it in the URL, or --token with --auth query)",
    "api-key": "an API-key header (--header 'X-Api-Key: ...', or whatever name the API documents)",
}
_CLOSE_HINTS = (
    (
        "audience",
        "the token was issued for another audience than the server expects: auth and backend disagree on the aud claim",
    ),
    ("expired", "the token has expired: get a fresh one"),
    (
        "signature",
        "the token's signature does not verify: auth and backend use different signing keys",
    ),
    ("issuer", "the token's issuer is not the one the server trusts"),
)


def sent_phrase(obs: WsObservation) -> str:
    """``no credential sent`` or ``sent bearer token in Authorization, cookie sid``."""
    if not obs.credentials:
        return "no credential sent"
    return "sent " + ", ".join(c.phrase for c in obs.credentials)


def expected_credentials(obs: WsObservation) -> str:
    """What the refusal says the endpoint may expect, and how to pass each, as one sentence."""
    seen: list[str] = []
    for scheme in auth_schemes(obs.header("www-authenticate")):
        how = _HOW.get(
            scheme, f"the {scheme} scheme (--header 'Authorization: {scheme.title()} ...')"
        )
        seen.append(f"{how}, as its WWW-Authenticate header says")
    location = obs.header("location")
    if login_redirect(obs.status, location):
        seen.append(
            f"a logged-in session, as its redirect to the login page {location} says "
            "(log in there, then pass the session cookie with --cookie NAME=VALUE)"
        )
    cookie = obs.header("set-cookie")
    name = (cookie or "").split("=", 1)[0].strip()
    if name and not re.search(r"(?i)xsrf|csrf", name) and not any("cookie" in s for s in seen):
        seen.append(f"perhaps a session cookie, since it sets one ({name}): --cookie {name}=...")
    if seen:
        return "It may expect " + "; or ".join(seen) + "."
    kinds = ", ".join(_HOW[k] for k in ("bearer", "cookie", "query", "api-key"))
    return f"The answer does not say which credential it wants; the usual kinds: {kinds}."


def auth_status(obs: WsObservation, others: list[WsObservation]) -> str:
    """Why the upgrade got 401, 403 (judged here) or a redirect to a login page."""
    status = obs.status
    said = f' (the server says: "{server_says(obs.body)}")' if obs.body else ""
    location = obs.header("location")
    answer = f"HTTP {status}" + (f" to {location}" if login_redirect(status, location) else "")
    upgraded = next((o for o in others if o.status == 101), None)
    if not obs.credentials:
        head = f"The server answered the upgrade with {answer} and no credential was sent{said}"
        if status == 403:
            head += (
                ": it may want a credential, or refuse this path or origin for another reason "
                "(Starlette and uvicorn also answer 403 where no WebSocket route is)"
            )
            if upgraded is not None:
                head = (
                    f"The server answered the upgrade with HTTP 403 when no credential was sent{said}, "
                    f"and 101 when one was ({upgraded.method.value}): it wants a credential"
                )
        elif status == 401:
            head = (
                f"The server requires a credential and none was sent: HTTP 401 on the upgrade{said}"
            )
        return f"{head}. {expected_credentials(obs)}"
    sent = ", ".join(c.phrase for c in obs.credentials)
    if login_redirect(status, location):
        return (
            f"The server redirected the upgrade to its login page ({location}) although {sent} "
            "was sent: the session or credential is not accepted (expired, from another server, "
            "or not the one it reads)."
        )
    if _MISSING_TOKEN.search(obs.body):
        return (
            f"The server answered HTTP {status} saying it found no {_missing(obs.body)}, although {sent} was "
            f"sent{said}: it does not read credentials from there; --auth auto shows which way it accepts."
        )
    if status == 403 and upgraded is not None:
        return (
            f"The server refused the upgrade with HTTP 403 when {sent} was sent{said}, but "
            f"accepted the attempt with {upgraded.method.value} (101): it refuses this credential."
        )
    return (
        f"The server refused the credential sent ({sent}) with HTTP {status}{said}: it is invalid "
        "or expired, or the server does not read it from there (--auth auto shows which way it accepts)."
    )


def _missing(body: str) -> str:
    match = _MISSING_TOKEN.search(body)
    return "token" if match and "token" in match.group(0).lower() else "credential"


def auth_close(obs: WsObservation, event: WsEvent, kind: CloseKind) -> str:
    """Why the server closed right after accepting the socket (a refusal, or it cannot be told)."""
    closed = (
        f"The handshake succeeded (101) but the server closed the connection with "
        f"{close_phrase(obs, event)} {ms(event.ms)} after accepting it, before any message"
    )
    if kind is CloseKind.REFUSED and obs.credentials:
        hint = next(
            (h for key, h in _CLOSE_HINTS if key in event.reason.lower()),
            "it refused the credential",
        )
        return f"{closed}: {hint} ({sent_phrase(obs)})."
    if kind is CloseKind.REFUSED:
        return (
            f"{closed}: it refused a connection without a credential. {expected_credentials(obs)}"
        )
    return (
        f"{closed}: it said no without a reason the probe can read ({sent_phrase(obs)}). A missing "
        "or refused credential is one possibility, a subprotocol or query parameter it wants "
        "another: --auth auto with --token or --cookie, or --subprotocol, tells them apart."
    )
