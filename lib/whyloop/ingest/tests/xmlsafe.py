"""Safe, streaming XML iteration for the test-result parsers.

Result files come from CI artefacts and pull requests, so they are untrusted:
a file may declare entities to expand ("billion laughs") or to fetch local
files and URLs (XXE). whyloop never resolves an entity a file declares.

:func:`iter_batches` (and :func:`iterparse` on top of it) works in two steps
over the same bytes:

0. **DOCTYPE.** A DOCTYPE that declares entities is blanked out before any
   parser sees it, and references to named entities are read as literal
   ``&name;`` text (see :mod:`whyloop.ingest.tests.dtd`): nothing is expanded
   or fetched, and a warning names each entity.
1. **Guard.** ``defusedxml``'s parser (``forbid_entities=True``,
   ``forbid_external=True``) reads the prolog up to the root element's start
   tag. Entities can only be declared there (in the DOCTYPE), so a file that
   gets past this point declares none; one that still declares any (a DOCTYPE
   step 0 could not take apart) is refused with an
   :class:`~whyloop.errors.IngestError`.
2. **Parse.** The C-accelerated ``xml.etree.ElementTree.XMLParser`` reads the
   document. It has nothing to expand (no entity was declared) and never
   fetches external resources (nor an external DTD), and it is about twice as
   fast as defusedxml's pure-Python parser, which matters for
   100,000-testcase files.

A syntax error (truncated file, garbage, bytes not in the declared encoding)
raises :class:`~whyloop.errors.IngestError` with the path and line. Parsers
that already read some records catch it and call :func:`truncation_warning`
to keep those records; see ``junit.py``.

Test output often carries characters XML 1.0 forbids, ANSI colour escapes
above all (raw ESC bytes, or Surefire's ``&#27;``), which stop any conforming
parser. When a parse fails that way, :func:`retry_lenient` tells the parser
to read the file again with ``lenient=True``: such characters are then read as
``#xNN`` text (pytest's own escape) and :func:`~whyloop.ingest.tests.values.strip_ansi`
removes the colour codes. Clean files never pay for this.
"""

from __future__ import annotations

import gc
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from itertools import chain
from typing import BinaryIO
from xml.parsers import expat

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from whyloop.errors import IngestError
from whyloop.ingest.tests.dtd import (
    MAX_DOCTYPE,
    Unexpanded,
    blank,
    declared_entities,
    doctype_span,
    doctype_start,
    entity_warning,
)

__all__ = [
    "CHUNK",
    "ENTITY_REFUSAL",
    "Event",
    "element_lines",
    "iter_batches",
    "iterparse",
    "local_name",
    "no_gc",
    "retry_lenient",
    "truncation_warning",
]

#: Bytes fed to the parser at a time: large enough to amortise the Python
#: overhead, small enough to keep memory flat.
CHUNK = 1 << 16
#: The one-line reason given for a file that declares entities.
ENTITY_REFUSAL = "declares XML entities (refused: entity expansion/XXE)"

# characters XML 1.0 forbids, raw or as character references
_INVALID = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|&#(?:[xX]0*([0-9a-fA-F]{1,2})|0*([0-9]{1,2}));"
)
_LENIENT_HELPS = ("invalid token", "invalid character")


class _RootReached(Exception):
    """Raised by the guard's target at the root start tag: the prolog is clean."""


class _StopAtRoot:
    """TreeBuilder stand-in for the guard: stops at the first start tag."""

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        raise _RootReached(tag)

    def close(self) -> None:
        return None


class _Lenient:
    """Rewrites characters XML 1.0 forbids as ``#xNN`` text, chunk by chunk."""

    def __init__(self) -> None:
        self.count = 0
        self.tail = b""
        self.active: bool | None = None  # decided on the first chunk

    def _sub(self, match: re.Match[bytes]) -> bytes:
        hexa, dec = match.group(1), match.group(2)
        if hexa is None and dec is None:
            value = match.group(0)[0]
        else:
            value = int(hexa, 16) if hexa is not None else int(dec)
            if value >= 32 or value in (9, 10, 13):
                return match.group(0)
        self.count += 1
        return b"#x%02X" % value

    def __call__(self, chunk: bytes, final: bool = False) -> bytes:
        if self.active is None:  # UTF-16/32 text is full of NUL bytes: leave it alone
            self.active = (
                not chunk.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\0" not in chunk[:4]
            )
        if not self.active:
            return chunk
        data = self.tail + chunk
        cut = data.rfind(b"&", max(0, len(data) - 12))
        if not final and cut != -1 and b";" not in data[cut:]:  # a reference cut in two
            data, self.tail = data[:cut], data[cut:]
        else:
            self.tail = b""
        return _INVALID.sub(self._sub, data)


def _error_line(exc: ET.ParseError) -> int | None:
    pos = getattr(exc, "position", None)
    return pos[0] if pos else None


def _syntax_error(exc: ET.ParseError, path: str, last: bytes) -> IngestError:
    reason = str(exc).split(": line ")[0]
    hint = ""
    if "invalid token" in reason:
        try:
            last.decode("utf-8")
        except UnicodeDecodeError:
            hint = " (the bytes are not valid UTF-8: wrong or missing encoding declaration?)"
    return IngestError(f"not well-formed XML: {reason}{hint}", path=path, line=_error_line(exc))


class _Filter:
    """The rewriting a parse needs, chunk by chunk: entity references, then forbidden characters."""

    def __init__(self, unexpanded: bool, lenient: bool) -> None:
        self.refs = Unexpanded() if unexpanded else None
        self.lenient = _Lenient() if lenient else None

    @property
    def tail(self) -> bool:
        return bool((self.refs and self.refs.tail) or (self.lenient and self.lenient.tail))

    def __call__(self, chunk: bytes, final: bool = False) -> bytes:
        if self.refs is not None:
            chunk = self.refs(chunk, final)
        if self.lenient is not None:
            chunk = self.lenient(chunk, final)
        return chunk


def _prolog(stream: BinaryIO) -> tuple[list[bytes], list[str]]:
    """The first bytes, with a DOCTYPE that declares entities blanked out, and those entities.

    Returns ``([first chunk], [])`` for a file without such a DOCTYPE (the usual case).
    """
    data = stream.read(CHUNK)
    if b"<!DOCTYPE" not in data:
        return [data], []
    start = doctype_start(data.decode("latin-1"))
    if start < 0:
        return [data], []
    end = doctype_span(data.decode("latin-1"), start)
    while end is None and len(data) < MAX_DOCTYPE and (more := stream.read(CHUNK)):
        data += more
        end = doctype_span(data.decode("latin-1"), start)
    if end is None:
        return [data], []  # the guard refuses it if it declares entities
    entities = declared_entities(data[start:end].decode("latin-1"))
    if not entities:
        return [data], []
    return [data[:start] + blank(data[start:end]) + data[end:]], entities


def _guard(
    stream: BinaryIO, path: str, head: list[bytes], filt: _Filter
) -> tuple[list[bytes], str]:
    """Read the prolog with defusedxml; return the bytes read so far and the root tag.

    ``head`` holds the bytes already read (by :func:`_prolog`); they are fed first.
    """
    parser = DET.XMLParser(target=_StopAtRoot(), forbid_dtd=False)
    pending = list(head)
    head = []
    while True:
        chunk = pending.pop(0) if pending else stream.read(CHUNK)
        if not chunk:
            if not head or not b"".join(head).strip():
                raise IngestError("empty file", path=path)
            try:
                parser.close()
            except _RootReached as root:
                return head, str(root)
            except ET.ParseError as exc:
                raise _syntax_error(exc, path, head[-1]) from None
            raise IngestError("no root element", path=path)
        head.append(chunk)
        try:
            parser.feed(filt(chunk))
        except _RootReached as root:
            return head, str(root)
        except DefusedXmlException:
            line = parser.parser.CurrentLineNumber if hasattr(parser, "parser") else None
            raise IngestError(ENTITY_REFUSAL, path=path, line=line) from None
        except ET.ParseError as exc:
            raise _syntax_error(exc, path, chunk) from None


Event = tuple[str, ET.Element]


def iter_batches(
    stream: BinaryIO,
    path: str,
    events: tuple[str, ...] = ("start", "end"),
    *,
    lenient: bool = False,
    warnings: list[str] | None = None,
) -> Iterator[list[Event]]:
    """Yield lists of ``(event, element)`` pairs from an untrusted XML stream.

    Each list holds the events of one chunk of input and is only valid until
    the next one is requested (it is reused). Batches spare the hot loops a
    generator step per event. Tags are local names (``{namespace}`` dropped)
    when the root element is in a namespace, as in TRX files; that needs
    ``"start"`` among ``events``. The caller should ``clear()`` elements it is
    done with.

    Raises :class:`IngestError` for an empty file, a file that declares
    entities, and at the first syntax error (with the line); the events before
    the error have been yielded by then, so the caller decides whether to keep
    them. ``lenient`` reads forbidden characters as ``#xNN`` text and appends
    a warning saying how many to ``warnings``.
    """
    first, entities = _prolog(stream)
    if not entities and not lenient and _plain_and_whole(first[0]):
        return _small(stream, path, first, events)
    head, root = _guard(stream, path, first, _Filter(bool(entities), lenient))
    if entities and warnings is not None:
        warnings.append(entity_warning(path, entities))
    clean = _Filter(bool(entities), lenient)
    batches = _batches(stream, path, head, events, clean)
    if clean.lenient is not None and warnings is not None:
        batches = _count_replaced(batches, clean.lenient, path, warnings)
    if root[:1] == "{":
        if "start" not in events:
            raise ValueError("namespaced XML needs 'start' events to drop namespaces")
        return _local_names(batches)
    return batches


def _plain_and_whole(data: bytes) -> bool:
    """A whole file (shorter than a chunk) in an ASCII-compatible encoding and without a DOCTYPE.

    Without a DTD no entity can be declared, and expat then refuses any entity
    reference but the five predefined ones: such a file needs no defusedxml
    pass. A build with thousands of small result files saves that pass per file.
    """
    if len(data) >= CHUNK or b"<!DOCTYPE" in data or b"<!doctype" in data:
        return False
    return not data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in data[:4]


def _small(
    stream: BinaryIO, path: str, head: list[bytes], events: tuple[str, ...]
) -> Iterator[list[Event]]:
    """The batches of a file :func:`_plain_and_whole` passed: one parse, no guard pass."""
    if not head[0].strip():
        raise IngestError("empty file", path=path)
    batches = _batches(stream, path, head, events, _Filter(False, False))
    first = next(batches)
    root = next((el.tag for event, el in first if event == "start"), "")
    if root[:1] == "{":
        if "start" not in events:
            raise ValueError("namespaced XML needs 'start' events to drop namespaces")
        return _local_names(chain([first], batches))
    return chain([first], batches)


def iterparse(
    stream: BinaryIO,
    path: str,
    events: tuple[str, ...] = ("start", "end"),
    *,
    lenient: bool = False,
    warnings: list[str] | None = None,
) -> Iterator[Event]:
    """Like :func:`iter_batches`, one ``(event, element)`` pair at a time."""
    for batch in iter_batches(stream, path, events, lenient=lenient, warnings=warnings):
        yield from batch


def _count_replaced(
    batches: Iterator[list[Event]], clean: _Lenient, path: str, warnings: list[str]
) -> Iterator[list[Event]]:
    try:
        yield from batches
    finally:
        if clean.count:
            warnings.append(
                f"{path}: {clean.count} character(s) XML does not allow (control codes such as "
                "ANSI colour escapes) read as '#xNN' text"
            )


def _local_names(batches: Iterator[list[Event]]) -> Iterator[list[Event]]:
    for batch in batches:
        for event, el in batch:
            if event == "start":
                el.tag = local_name(el.tag)
        yield batch


def _batches(
    stream: BinaryIO,
    path: str,
    head: list[bytes],
    events: tuple[str, ...],
    clean: _Filter,
) -> Iterator[list[Event]]:
    # XMLPullParser.read_events() is a Python generator step per event; the C
    # parser's _setevents() (what XMLPullParser itself uses) appends straight
    # to a list we own instead.
    parser = ET.XMLParser(target=ET.TreeBuilder())
    queue: list[Event] = []
    parser._setevents(queue, events)
    chunk = b""
    try:
        direct = clean.refs is None and clean.lenient is None  # the usual case: no rewriting
        for chunk in head:
            parser.feed(chunk if direct else clean(chunk))
            yield queue
            queue.clear()
        while chunk := stream.read(CHUNK):
            parser.feed(chunk if direct else clean(chunk))
            yield queue
            queue.clear()
        if clean.tail:
            parser.feed(clean(b"", final=True))
        parser.close()
        yield queue
    except ET.ParseError as exc:
        yield queue
        raise _syntax_error(exc, path, chunk) from None


def retry_lenient(err: IngestError, stream: BinaryIO, lenient: bool) -> bool:
    """Whether to parse again with ``lenient=True``; if so, ``stream`` is rewound.

    True for a syntax error that forbidden characters can cause, on a first,
    strict attempt, when the stream can seek back to the start.
    """
    if lenient or err.line is None or not any(w in err.reason for w in _LENIENT_HELPS):
        return False
    try:
        stream.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return False
    return True


def truncation_warning(err: IngestError, open_tag: str | None) -> str:
    """The warning for a file whose records before a syntax error were kept."""
    where = f"line {err.line}" if err.line else "end of file"
    truncated = any(w in err.reason for w in ("no element found", "unclosed"))
    if truncated and open_tag:
        what = f"truncated at {where}: no closing </{open_tag}>"
    else:
        what = f"{err.reason.removeprefix('not well-formed XML: ')} at {where}"
    return f"{err.path}: {what} (rows before it kept)"


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def element_lines(stream: BinaryIO, tag: str, ordinals: set[int]) -> dict[int, int]:
    """Map the 1-based ordinals of ``<tag>`` start tags to their line numbers.

    Used only to locate warnings after a parse (the fast parser has no
    positions): rewinds ``stream`` and rescans it. Returns ``{}`` for a stream
    that cannot seek. Call it only on a stream that :func:`iterparse` accepted.
    """
    try:
        stream.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        return {}
    found: dict[int, int] = {}
    count = 0
    parser = expat.ParserCreate()
    head, entities = _prolog(stream)  # the same DOCTYPE blanking as the parse, lines kept
    clean = _Filter(bool(entities), lenient=True)

    def start(name: str, attrs: object) -> None:
        nonlocal count
        if name.rpartition(":")[2] == tag:
            count += 1
            if count in ordinals:
                found[count] = parser.CurrentLineNumber
                if len(found) == len(ordinals):
                    raise _RootReached(tag)  # done: stop scanning

    def refuse(*args: object) -> None:
        raise _RootReached("entity")

    parser.StartElementHandler = start
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        for chunk in head:
            parser.Parse(clean(chunk), False)
        while chunk := stream.read(CHUNK):
            parser.Parse(clean(chunk), False)
    except (_RootReached, expat.ExpatError):
        pass
    return found


class no_gc:
    """Pause the cyclic garbage collector while a parser builds its rows.

    Every few hundred allocations the collector re-traverses all the rows built
    so far, which costs about a third of a large parse; rows and elements form
    no reference cycles, so there is nothing for it to find. The previous
    state is restored on exit. A class rather than a generator: a build's
    thousands of small files enter it once each.
    """

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()
