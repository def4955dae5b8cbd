"""Reading XML that carries a DTD, with every entity left unexpanded and nothing fetched.

Some CI tools write result files with a ``<!DOCTYPE ... [ ... ]>`` that
declares entities. whyloop never expands or fetches an entity, and it no
longer refuses such a file either: the DOCTYPE is blanked out before any
parser sees it (replaced by spaces, its line breaks kept so line numbers stay
right), and each reference to a named entity in the document, ``&name;``, is
read as the literal text ``&name;``. An expansion bomb ("billion laughs")
then expands nothing and an external entity (XXE) fetches nothing: their
declarations are never parsed at all. The caller lists the declared entities
in a warning (:func:`entity_warning`).

:func:`doctype_span` finds where a DOCTYPE ends (quotes, comments and the
internal subset's brackets taken into account); it is shared with
:mod:`whyloop.ingest.tests.detect`, which uses it to skip the DOCTYPE when
sniffing the root element.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_DOCTYPE",
    "Unexpanded",
    "blank",
    "declared_entities",
    "doctype_span",
    "doctype_start",
    "entity_warning",
]

#: A DOCTYPE longer than this is not looked for to its end (the guard then refuses the file).
MAX_DOCTYPE = 1 << 20
#: At most this many declared entities are named in the warning.
_MAX_NAMED = 10

_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})
_REFERENCE = re.compile(rb"&([A-Za-z_:][-A-Za-z0-9._:]*);")
_ENTITY = re.compile(
    r"""<!ENTITY\s+(%\s+)?([^\s"'>%]+)\s*"""
    r"""(?:(SYSTEM|PUBLIC)\s*("[^"]*"|'[^']*')?(?:\s*("[^"]*"|'[^']*'))?)?""",
    re.S,
)
_PE_REFERENCE = re.compile(r"%[A-Za-z_:][-\w.:]*;")
# what may stand before a DOCTYPE: a BOM, the XML declaration, comments, PIs, blanks
_BEFORE = re.compile(r"\A(?:\ufeff|\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)


def doctype_start(text: str) -> int:
    """Where ``<!DOCTYPE`` starts if it opens the document (after the prolog's comments), else -1.

    ``text`` is the head of the file, decoded (latin-1 keeps byte offsets).
    """
    pos = _BEFORE.match(text).end()  # type: ignore[union-attr]  # the pattern always matches
    return pos if text.startswith("<!DOCTYPE", pos) else -1


def doctype_span(text: str, start: int) -> int | None:
    """The offset just past the DOCTYPE starting at ``start``; ``None`` if it does not end in ``text``."""
    i, n, depth = start + len("<!DOCTYPE"), len(text), 0
    while i < n:
        c = text[i]
        if c in "\"'":
            end = text.find(c, i + 1)
            if end < 0:
                return None
            i = end + 1
            continue
        if c == "<" and text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return None
            i = end + 3
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == ">" and depth <= 0:
            return i + 1
        i += 1
    return None


def declared_entities(doctype: str) -> list[str]:
    """The entities a DOCTYPE declares, each as ``name (internal)`` or ``name (external: uri)``.

    Parameter entities are named ``%name``; a parameter-entity reference in the
    internal subset (``%name;``, which could pull in declarations) is listed as
    ``%name; (reference)``.
    """
    found: list[str] = []
    for match in _ENTITY.finditer(doctype):
        param, name, external, first, second = match.groups()
        label = f"%{name}" if param else name
        if external:
            uri = second if external == "PUBLIC" and second else first
            where = (uri or "").strip("\"'") or external
            found.append(f"{label} (external: {where})")
        else:
            found.append(f"{label} (internal)")
    without_decls = re.sub(r"<!ENTITY.*?>", "", doctype, flags=re.S)
    found += [f"{ref} (reference)" for ref in dict.fromkeys(_PE_REFERENCE.findall(without_decls))]
    return found


def entity_warning(path: str, entities: list[str]) -> str:
    """The one-line warning naming the entities that were left unexpanded."""
    shown = ", ".join(entities[:_MAX_NAMED])
    more = f" and {len(entities) - _MAX_NAMED} more" if len(entities) > _MAX_NAMED else ""
    return (
        f"{path}: the DOCTYPE declares XML entities, left unexpanded and never fetched "
        f"(references read as literal '&name;' text): {shown}{more}"
    )


def blank(doctype: bytes) -> bytes:
    """``doctype`` with every byte but line breaks turned into a space."""
    return re.sub(rb"[^\r\n]", b" ", doctype)


class Unexpanded:
    """Rewrites ``&name;`` (any but the five predefined) as ``&amp;name;``, chunk by chunk.

    The parser then reads the reference as the text ``&name;`` instead of
    looking the entity up. A reference cut in two by a chunk boundary is held
    back until the next chunk. (Inside a CDATA section, where ``&name;`` was
    already text, it reads as ``&amp;name;``: a rare cost, only in files that
    declare entities.)
    """

    def __init__(self) -> None:
        self.tail = b""
        self.count = 0

    def _sub(self, match: re.Match[bytes]) -> bytes:
        if match.group(1) in _PREDEFINED:
            return match.group(0)
        self.count += 1
        return b"&amp;" + match.group(0)[1:]

    def __call__(self, chunk: bytes, final: bool = False) -> bytes:
        data = self.tail + chunk
        cut = data.rfind(b"&", max(0, len(data) - 256))
        if not final and cut != -1 and b";" not in data[cut:]:
            data, self.tail = data[:cut], data[cut:]
        else:
            self.tail = b""
        return _REFERENCE.sub(self._sub, data)
