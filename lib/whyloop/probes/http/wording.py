"""The sentences of an HTTP probe's diagnosis for error statuses and redirects (pure).

Used by :mod:`.judge`, kept apart so the judge reads as the decision table.
Every sentence says only what the response shows, and cites it:

- a proxy is named only on evidence of one: nginx's own error page in the body
  (nginx hides the upstream's ``Server`` header and sends its own, so
  ``Server: nginx`` alone does not say who wrote a 502), a ``Server`` naming
  a proxy product, or a ``Via`` header; without any, the sentence says that
  nothing shows whether a proxy sits in front;
- 502 and 504 are read only as far as RFC 9110 defines them (15.6.3: a
  gateway got an invalid response, or none, from the server behind it; 15.6.5:
  a gateway timed out waiting for it); which of refused, reset or malformed a
  502 was, only the proxy's error log says;
- ``Retry-After`` is read in both forms (seconds, HTTP-date) and turned into
  the wait and the time, counted from the response's ``Date`` header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["ProxySign", "loop_sentence", "proxy_sign", "retry_after", "status_sentence"]

#: Server / Via values that name a reverse proxy, load balancer or CDN
_PROXIES = re.compile(
    r"(?i)\b(nginx|openresty|envoy|haproxy|cloudflare|awselb|elb|apache|caddy|traefik|istio|"
    r"google frontend|gfe|varnish|squid|akamai|cloudfront|kong|azure)\b"
)
#: the signature nginx (and openresty) put on the error pages they write themselves
_NGINX_PAGE = re.compile(r"(?i)<hr>\s*<center>\s*((?:nginx|openresty)(?:/[\w.]+)?)\s*</center>")
_NAMES = {
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
#: the statuses :func:`status_sentence` explains
EXPLAINED = frozenset(_NAMES)


@dataclass(frozen=True)
class ProxySign:
    """What in a response shows a proxy: the product, and the header or page that says so."""

    #: the proxy product named (``nginx``), or ``a proxy`` for a bare Via header; None: no sign
    product: str | None = None
    #: ``server: nginx/1.22.1`` or ``via: 1.1 varnish``: the header that names it
    header: str | None = None
    #: the signature quoted from the body when it is the proxy's own error page
    own_page: str | None = None


def proxy_sign(headers: dict[str, str], body: str) -> ProxySign:
    """The evidence of a proxy in a response (lower-case ``headers``, the body's start)."""
    page = _NGINX_PAGE.search(body or "")
    server, via = headers.get("server", ""), headers.get("via", "")
    for name, value in (("server", server), ("via", via)):
        match = _PROXIES.search(value)
        if match:
            product = match.group(1).lower()
            own = page.group(0) if page and product in page.group(1).lower() else None
            return ProxySign(product, f"{name}: {value}", own)
    if page:  # the page, with no Server header naming it (the header was removed)
        return ProxySign(page.group(1).split("/")[0].lower(), None, page.group(0))
    if via:
        return ProxySign("a proxy", f"via: {via}", None)
    return ProxySign()


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def retry_after(value: str | None, date: str | None, received_at: datetime | None) -> str:
    """When ``Retry-After`` says to come back, as a phrase (``retry after 120 s (at ...)``).

    ``date`` is the response's ``Date`` header, the base a seconds value counts
    from; without it, ``received_at`` (the probe's clock). A value in neither
    form is quoted and said to tell nothing.
    """
    if value is None:
        return "it sends no Retry-After, so it does not say when to retry"
    base, base_name = None, ""
    try:
        base, base_name = parsedate_to_datetime(date or ""), "its Date header"
    except (TypeError, ValueError, IndexError):
        if received_at is not None:
            base, base_name = received_at, "the probe's clock"
    text = value.strip()
    if text.isdigit():
        at = f" (until {_when(base + timedelta(seconds=int(text)))} by {base_name})" if base else ""
        return f"its Retry-After: {text} asks to wait {int(text)} s{at}"
    try:
        then = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return f"Retry-After {text!r} is neither seconds nor an HTTP date, so it does not say when"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    wait = ""
    if base is not None:
        seconds = round((then - base).total_seconds())
        wait = (
            f" ({seconds} s after {base_name})"
            if seconds >= 0
            else f" (already {-seconds} s past by {base_name})"
        )
    return f"its Retry-After asks to wait until {_when(then)}{wait}"


def _standard(status: int) -> str:
    if status == 502:
        return (
            "a gateway or proxy that could not get a valid response from the server behind it "
            "(it could not reach it, or the answer was broken)"
        )
    return "a gateway or proxy that timed out waiting for the server behind it"


def status_sentence(
    status: int,
    headers: dict[str, str],
    body: str,
    received_at: datetime | None = None,
) -> str:
    """What a 429, 502, 503 or 504 says, citing the headers and body it is based on.

    ``headers`` are lower-case; ``body`` the start of the response body.
    """
    name = f"{status} {_NAMES[status]}"
    sign = proxy_sign(headers, body)
    page = f" (its own error page: {sign.own_page!r})" if sign.own_page else ""
    if status in (502, 504):
        if sign.own_page:
            named = f"{sign.product} answered {name} itself{page}"
            if status == 502:
                return (
                    f"{named}: {sign.product}, acting as a proxy, could not get a valid response "
                    "from the service behind it; RFC 9110 502 means it could not reach it "
                    "(refused, reset) or the answer was broken, and does not say which: "
                    f"{sign.product}'s error log does; is the service running, on the port "
                    "the proxy forwards to?"
                )
            return (
                f"{named}: {sign.product}, acting as a proxy, timed out waiting for the service "
                "behind it (RFC 9110 504); the service is slow or stuck, or the proxy's timeout "
                f"(nginx: proxy_read_timeout) is shorter than the service needs; {sign.product}'s "
                "error log says whether it timed out connecting or reading"
            )
        if sign.product:
            it = "the proxy" if sign.product == "a proxy" else sign.product
            return (
                f"{name} came through {sign.product} ({sign.header}), but the body is not an "
                f"error page whyloop knows as {it}'s own, so this cannot tell whether {it} wrote "
                f"it or the service behind it answered {status} itself; {status} is, in "
                f"RFC 9110, the status of {_standard(status)}"
            )
        server = headers.get("server")
        return (
            f"the server answered {name} ({f'server: {server}' if server else 'no Server header'}"
            ", no Via header, and the body is not a known proxy error page): nothing shows "
            "whether a proxy sits in front, so this cannot tell whether a proxy failed or the "
            f"application answered {status} itself; {status} is, in RFC 9110, the status of "
            f"{_standard(status)}"
        )
    when = retry_after(headers.get("retry-after"), headers.get("date"), received_at)
    by = (
        f"{sign.product} answered {name} itself{page}"
        if sign.own_page
        else f"the server answered {name}"
    )
    if status == 503:
        return (
            f"{by}: it cannot serve the request for now (RFC 9110: temporary "
            f"overload or scheduled maintenance); {when}"
        )
    return f"{by}: the client is rate limited (RFC 6585); {when}"


def loop_sentence(cycle: list[str]) -> str:
    """``redirect loop: A -> B -> A``, what it shows, and where such loops usually come from."""
    back = "itself" if len(cycle) == 2 else f"{cycle[-1]}, which this chain already requested"
    return (
        f"redirect loop: {' -> '.join(cycle)}: {cycle[-2]} redirects back to {back}, so the "
        "probe stops rather than go round again (common causes: a scheme or host rewrite that "
        "never matches, a login page that redirects to itself)"
    )
