"""Line formats of text logs: the built-ins, templates, and recognising one from a head sample (pure).

A line format names the parts of a line with named groups. It is given as

* the name of a built-in format in :data:`LINE_FORMATS`;
* a template, ``<Date> <Time> [<Level>] <Component>: <Content>``: each
  ``<Token>`` becomes a named group and runs of spaces match any whitespace.
  Every other character is literal text (``[``, ``]``, ``|``, ``.``, ``(``),
  unless the template has a backslash: loghub's format strings escape their
  literal brackets (``\\[<Process>\\]``) and use regex syntax between tokens
  (``<Component>(\\[<PID>\\])?:``), so a template with a backslash is read as
  loghub's own parsers read it, and its ``formats.json`` works unchanged;
* a regular expression with named groups (``regex=``, ``--regex``).

Without a format, :func:`detect_line_format` names the built-in format that
most of the first lines match, so that timestamps and levels come out of
common logs: Python logging (its ``basicConfig`` default and the usual
``asctime`` formats), Tornado/Jupyter (``[W 2026-12-01 13:26:21.787 Name]``),
nginx's error and access logs, syslog (RFC 3164 and 5424), logfmt, glog/klog
and CRI container lines.
"""

from __future__ import annotations

import re

from whyloop.errors import IngestError

__all__ = [
    "LINE_FORMATS",
    "detect_line_format",
    "line_format_regex",
    "named_only",
    "resolve_format",
]

# Python logging's level names (and the aliases some handlers print).
_PY_LEVELS = "CRITICAL|FATAL|ERROR|WARNING|WARN|INFO|DEBUG|NOTSET|TRACE"
_ANSI = r"(?:\x1b\[[0-9;]*m)?"  # a colour code, where a formatter wrote to a terminal
_KEY = r'[^\s="]+'
_KV = _KEY + r'=(?:"(?:[^"\\]|\\.)*"|[^\s"]*)'

#: Built-in line formats, by name. Each is a regex with named groups (see
#: :mod:`.text` for how groups become columns); ``logfmt`` is read by
#: :mod:`.logfmt`, its pattern here only recognises a line.
LINE_FORMATS: dict[str, str] = {
    # logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    "python-logging": (
        r"^(?P<Date>\d{4}-\d\d-\d\d)[ T](?P<Time>\d\d:\d\d:\d\d(?:[,.]\d+)?)\s+"
        r"(?P<Level>[A-Za-z]+)\s+(?P<Logger>[^\s:]+):\s?(?P<Content>.*)$"
    ),
    # "%(asctime)s - %(name)s - %(levelname)s - %(message)s" (the logging cookbook's)
    "python-logging-dash": (
        r"^(?P<Date>\d{4}-\d\d-\d\d)[ T](?P<Time>\d\d:\d\d:\d\d(?:[,.]\d+)?) - "
        r"(?P<Logger>\S+) - (?P<Level>[A-Za-z]+) - (?P<Content>.*)$"
    ),
    # logging.basicConfig's default "%(levelname)s:%(name)s:%(message)s", and
    # uvicorn's "%(levelprefix)s %(message)s" ("INFO:     Started server")
    "python-logging-basic": (
        rf"^{_ANSI}(?P<Level>{_PY_LEVELS}){_ANSI}:(?:(?P<Logger>[^\s:]+):|\s+)(?P<Content>.*)$"
    ),
    # tornado.log.LogFormatter: "[I 261201 13:26:21 web:2345] ..." (module:lineno), and
    # Jupyter's "[W 2026-12-01 13:26:21.787 ServerApp] ..." (logger name)
    "tornado": (
        rf"^{_ANSI}\[(?P<Level>[DIWEC]) (?P<Datetime>\d{{6}} \d\d:\d\d:\d\d|"
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) "
        rf"(?:(?P<Module>[^\s:\]]+):(?P<Lineno>\d+)|(?P<Logger>[^\s\]]+))\]{_ANSI} ?"
        r"(?P<Content>.*)$"
    ),
    # nginx error log: 2026/12/01 13:26:21 [error] 12#12: *5 connect() failed ...
    "nginx-error": (
        r"^(?P<Datetime>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<Level>[a-z]+)\] "
        r"(?P<Pid>\d+)#(?P<Tid>\d+): (?:\*(?P<Connection>\d+) )?(?P<Content>.*)$"
    ),
    # RFC 3164 syslog (and rsyslog's RFC 3339-timestamped file lines), with an
    # optional <PRI>: only a PRI tells a level (its severity, PRI mod 8). rsyslog
    # writes "tag[pid] msg" without the ":" for messages it received as RFC 5424.
    "syslog": (
        r"^(?:<(?P<Pri>\d{1,3})>)?(?P<Datetime>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|"
        r"\d{4}-\d\d-\d\dT\S+) (?P<Host>\S+) (?P<Program>[^\s\[:]+)"
        r"(?:\[(?P<Pid>\d+)\]:?|:) ?(?P<Content>.*)$"
    ),
    # RFC 5424 syslog: <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG ("-": absent)
    "syslog-5424": (
        r"^<(?P<Pri>\d{1,3})>1 (?:-|(?P<Datetime>\S+)) (?:-|(?P<Host>\S+)) "
        r"(?:-|(?P<Program>\S+)) (?:-|(?P<Pid>\S+)) (?:-|(?P<Msgid>\S+)) "
        r"(?:-|(?P<Data>(?:\[(?:[^\]\\]|\\.)*\])+))"
        "(?: \ufeff?(?P<Content>.*))?$"  # a UTF-8 BOM may open MSG
    ),
    # nginx / Apache combined (and common) access log. It carries no level:
    # an HTTP status is not one (a 503 logged here is not the server's error).
    "combined": (
        r"^(?P<Client>\S+) (?P<Ident>\S+) (?P<User>\S+) \[(?P<Datetime>[^\]]+)\] "
        r'"(?P<Content>[^"]*)" (?P<Status>\d{3}) (?P<Bytes>\S+)'
        r'(?: "(?P<Referer>[^"]*)" "(?P<UserAgent>[^"]*)")?.*$'
    ),
    # glog / klog (Kubernetes components, absl-py): I0506 13:45:12.123456   12345 file.go:123] msg
    "klog": (
        r"^(?P<Level>[IWEF])(?P<Date>\d{4}) (?P<Time>\d\d:\d\d:\d\d\.\d+)\s+(?P<Thread>\d+) "
        r"(?P<File>[^\]\s]+)\] (?P<Content>.*)$"
    ),
    # logfmt: time=... level=warn msg="..." ok: it starts with a key=value pair and
    # has two at least; bare keys ("ok") may follow
    "logfmt": (
        rf"^\s*(?P<Key>{_KEY})=(?:\"(?:[^\"\\]|\\.)*\"|[^\s\"]*)(?:\s+{_KEY})*"
        rf"(?:\s+{_KV}(?:\s+{_KEY})*)+\s*$"
    ),
    "cri": r"^(?P<time>\d{4}-\S+) (?P<stream>stdout|stderr) (?P<tag>[^ ]+)(?: (?P<Content>.*))?$",
}
_GROUP = re.compile(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")


def line_format_regex(line_format: str) -> str:
    """Turn a template (``<Date> <Time> [<Level>] <Content>``) into a regex.

    Text between tokens is literal, and runs of spaces match any whitespace;
    a template with a backslash is loghub's (see the module docstring): the
    text between its tokens is already a regular expression.
    """
    loghub = "\\" in line_format
    regex = ""
    for k, part in enumerate(re.split(r"(<[^<>]+>)", line_format)):
        if k % 2 == 0:
            pieces = re.split(" +", part)
            regex += r"\s+".join(pieces if loghub else map(re.escape, pieces))
        else:
            token = re.sub(r"\W", "_", part.strip("<>"))
            regex += f"(?P<{token}>.*?)"
    return "^" + regex + "$"


def named_only(pattern: str) -> tuple[str, list[str]]:
    """Make unnamed groups non-capturing and list the named ones in order.

    DuckDB names ``regexp_extract`` results by group position, so every
    capturing group must be one of the named ones.
    """
    out: list[str] = []
    names: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            j = i + 1 + (pattern[i + 1 : i + 2] == "^")
            j += pattern[j : j + 1] == "]"  # a leading ] is literal
            out.append(pattern[i:j])
            i = j
            continue
        elif c == "(":
            m = _GROUP.match(pattern, i)
            if m:
                names.append(m.group(1))
                out.append(f"(?P<{m.group(1)}>")
                i = m.end()
                continue
            if pattern[i + 1 : i + 2] != "?":
                out.append("(?:")
                i += 1
                continue
        out.append(c)
        i += 1
    return "".join(out), names


def resolve_format(line_format: str | None = None, regex: str | None = None) -> tuple[str, str]:
    """Return ``(label, regex)`` for a built-in name, a template or a regex.

    ``label`` is the built-in's name, ``line-format`` for a template or
    ``regex``; it is recorded as the source's line format.
    """
    if regex is not None:
        return "regex", regex
    if line_format is None:
        raise ValueError("give line_format or regex")
    if line_format in LINE_FORMATS:
        return line_format, LINE_FORMATS[line_format]
    if "<" not in line_format:
        raise IngestError(
            f"unknown line format {line_format!r}: give a built-in name "
            f"({', '.join(LINE_FORMATS)}), a '<Date> <Level> <Content>' template or regex="
        )
    return "line-format", line_format_regex(line_format)


_COMPILED = {name: re.compile(p) for name, p in LINE_FORMATS.items()}


def detect_line_format(head: str | bytes) -> str | None:
    """Name the built-in format that most of the first lines match (a third at least), or None.

    ``head`` is the first bytes of the (UTF-8) text; up to 200 non-blank
    lines are tried, the last one left out when it may be cut. Lines that
    match no format (tracebacks, banners) do not count against the best one
    beyond the third it must reach.
    """
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    lines = [x for x in text.splitlines()[:200] if x.strip()]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the last line may be cut
    best, hits = None, 0
    for name, rx in _COMPILED.items():
        count = sum(1 for x in lines if rx.search(x))
        if count > hits:
            best, hits = name, count
    return best if lines and hits * 3 >= len(lines) else None
