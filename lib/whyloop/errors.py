"""The whyloop exception tree.

Every error whyloop raises on purpose derives from :class:`WhyloopError` and
prints as one line, naming the file and line (or field) where known::

    WhyloopError
    ├── IngestError      a result file or log source cannot be read at all
    │   └── UnsupportedFormatError   the content is a format whyloop does not read
    ├── StoreError       the iteration store is missing, incomplete or unwritable
    ├── ConfigError      a mapping, rules or settings file is invalid
    ├── ProbeError       a probe could not be set up (bad target, refused host)
    ├── SandboxError     the sandbox could not be started or stopped
    ├── WhysError        a five-whys file is invalid
    ├── PostmortemError  a postmortem file is invalid or cannot be built
    └── ReportError      a report could not be built

The CLI turns any of them into ``whyloop: <message>`` on stderr and exit 1, or
exit 2 when ``param`` says an argument was bad (the message then names the flag).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "IngestError",
    "PostmortemError",
    "ProbeError",
    "ReportError",
    "SandboxError",
    "StoreError",
    "UnsupportedFormatError",
    "WhyloopError",
    "WhysError",
]


class WhyloopError(Exception):
    """Base of every error whyloop raises on purpose.

    ``path`` and ``line`` locate the problem when known; ``str(err)`` is a
    single line such as ``results.xml:412: <testcase> has no name``. ``param``
    names the argument of the library call that was invalid (``"timeout"``),
    so that a caller such as the CLI can name its own flag (``--timeout``).
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        line: int | None = None,
        param: str | None = None,
    ) -> None:
        self.reason = " ".join(str(reason).split())
        self.path = str(path) if path is not None else None
        self.line = line
        self.param = param
        super().__init__(self.reason)

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        return where + self.reason

    def at(self, path: str | None = None, line: int | None = None) -> WhyloopError:
        """Attach a location if none is set yet, and return self for ``raise``."""
        if self.path is None and path is not None:
            self.path = str(path)
        if self.line is None and line is not None:
            self.line = line
        return self


class IngestError(WhyloopError):
    """A result file or log source cannot be read at all."""


class UnsupportedFormatError(IngestError):
    """The content is in a format whyloop does not read; the message names what it looks like."""


class StoreError(WhyloopError):
    """The iteration store is missing, incomplete or cannot be written."""


class ConfigError(WhyloopError):
    """A mapping, rules or settings file is invalid."""


class ProbeError(WhyloopError):
    """A probe could not be set up: a bad target, a refused host, a bad option."""


class SandboxError(WhyloopError):
    """The sandbox could not be started or stopped; the message says why (and what a child printed)."""


class WhysError(WhyloopError):
    """A five-whys file is invalid."""


class PostmortemError(WhyloopError):
    """A postmortem file is invalid, or the iterations it is built from are missing."""


class ReportError(WhyloopError):
    """A report could not be built."""
