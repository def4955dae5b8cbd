"""The allow-list: a probe only sends traffic to hosts the user named.

Pure (no network). An :class:`AllowList` holds host names (case-insensitive,
IPv6 without brackets) and ``*.example.com`` suffix patterns; :meth:`AllowList.check`
returns the URL when its host is allowed and raises
:class:`~whyloop.errors.ProbeError` naming the host otherwise::

    allow = AllowList.from_urls(["http://127.0.0.1:8081"])
    allow.check("http://127.0.0.1:8081/health")   # fine
    allow.check("https://example.org/")            # ProbeError: host 'example.org' is not ...

A single ``whyloop probe http URL`` allows the URL's own host (plus any
``--allow-host``); a suite allows its ``allow_hosts`` list, or the hosts of its
targets when it names none. Redirects are checked hop by hop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from whyloop.errors import ProbeError

__all__ = ["AllowList", "host_of"]


def host_of(url: str) -> str:
    """The lower-case host of ``url`` (no port, no IPv6 brackets); ProbeError when it has none."""
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:
        raise ProbeError(f"invalid URL {url!r}: {exc}") from None
    if not host:
        raise ProbeError(
            f"URL {url!r} names no host; give a full URL such as http://host:port/path"
        )
    return host.lower()


def _normal(entry: str) -> str:
    entry = entry.strip().lower()
    if "://" in entry:
        return host_of(entry)
    if entry.startswith("[") and "]" in entry:  # [::1] or [::1]:8080
        return entry[1 : entry.index("]")]
    if entry.count(":") == 1:  # host:port; the port does not matter to the allow-list
        return entry.split(":", 1)[0]
    return entry


@dataclass(frozen=True)
class AllowList:
    """Hosts a probe may contact: exact names and ``*.suffix`` patterns."""

    hosts: frozenset[str]

    @classmethod
    def of(cls, entries: Iterable[str]) -> AllowList:
        """An allow-list from host names, ``host:port``, URLs or ``*.suffix`` patterns."""
        hosts = frozenset(_normal(str(e)) for e in entries if str(e).strip())
        return cls(hosts)

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> AllowList:
        """The allow-list holding exactly the hosts of ``urls``."""
        return cls(frozenset(host_of(u) for u in urls))

    def allows(self, host: str) -> bool:
        """True when ``host`` is named, or matches a ``*.suffix`` pattern."""
        host = host.lower().strip("[]")
        if host in self.hosts:
            return True
        return any(p.startswith("*.") and host.endswith(p[1:]) for p in self.hosts)

    def check(self, url: str, *, what: str = "probe target") -> str:
        """Return ``url`` if its host is allowed; otherwise raise ProbeError naming the host."""
        host = host_of(url)
        if not self.allows(host):
            named = ", ".join(sorted(self.hosts)) or "none"
            raise ProbeError(
                f"{what} host {host!r} is not in the allow list (allowed: {named}); "
                f"add it to allow_hosts (suite) or --allow-host (CLI) to probe it"
            )
        return url
