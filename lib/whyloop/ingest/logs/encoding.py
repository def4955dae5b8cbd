"""What a log's bytes are: text in which Unicode encoding, or not text at all (pure).

* :func:`check_text` refuses a binary file from its first bytes (a cheap
  count of control bytes), with one line: ``app.db: looks binary, not a log``.
* UTF-16 and UTF-32 with a byte-order mark are decoded as they are read
  (:func:`utf8_pieces`, a piece at a time), so the parsers only ever see
  UTF-8; a UTF-8 BOM is dropped.
* Bytes that are not valid UTF-8 are replaced (U+FFFD, one per byte) and
  counted in a :class:`Decoding`, whose warning says how many:
  ``app.log: 3 invalid UTF-8 bytes replaced``.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whyloop.errors import IngestError

__all__ = [
    "BINARY_SHARE",
    "UTF8_BOM",
    "Decoding",
    "bom_codec",
    "check_text",
    "repair_utf8",
    "utf8_head",
    "utf8_pieces",
]

UTF8_BOM = b"\xef\xbb\xbf"
# UTF-32-LE's mark starts with UTF-16-LE's: try the longer marks first.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)
#: Share of the head that may be control bytes (other than tab, line ends,
#: form feed, backspace and ESC) before it is called binary. Text logs have
#: next to none, whatever their encoding (a log in GB18030 or Latin-1 is text
#: whose bytes are not UTF-8: they are replaced and counted, not refused);
#: executables, databases and Parquet are full of NULs, and compressed or
#: random bytes are 10% control bytes.
BINARY_SHARE = 0.05
_TEXT_CONTROLS = np.array([8, 9, 10, 11, 12, 13, 27], dtype=np.uint8)  # \b \t \n \v \f \r ESC
_ESCAPED = re.compile("[\udc80-\udcff]")  # what "surrogateescape" makes of a byte that is not UTF-8


def bom_codec(head: bytes) -> str | None:
    """``"utf-16"`` or ``"utf-32"`` when ``head`` starts with that byte-order mark, else None."""
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def check_text(head: bytes, name: str) -> None:
    """Raise :class:`IngestError` when the first bytes of a source are not text.

    UTF-16/32 with a BOM is text. Without a BOM, UTF-16 is refused with a
    hint to convert it (guessing its byte order is not this reader's call).
    """
    if not head or bom_codec(head):
        return
    data = np.frombuffer(head, dtype=np.uint8)
    nul = data == 0
    if nul.mean() > 0.3 and len(data) > 3:
        odd, even = nul[1::2].mean(), nul[0::2].mean()
        if max(odd, even) > 0.9 and min(odd, even) < 0.1:
            order = "LE" if odd > even else "BE"
            raise IngestError(
                f"looks like UTF-16{order} text without a byte-order mark, not a log: "
                f"convert it to UTF-8 first (iconv -f UTF-16{order} -t UTF-8)",
                path=name,
            )
    controls = int(np.count_nonzero((data < 32) & ~np.isin(data, _TEXT_CONTROLS)))
    controls += int(np.count_nonzero(data == 127))
    if controls > BINARY_SHARE * len(data):
        raise IngestError("looks binary, not a log", path=name)


@dataclass
class Decoding:
    """What decoding a source replaced: ``invalid_bytes`` bytes that were not UTF-8."""

    invalid_bytes: int = 0

    def warning(self, name: str) -> str | None:
        """The one-line warning for source ``name``, or None when nothing was replaced."""
        if not self.invalid_bytes:
            return None
        return f"{name}: {self.invalid_bytes} invalid UTF-8 bytes replaced"


def repair_utf8(data: bytes, decoding: Decoding | None = None) -> bytes:
    """``data`` with each byte that is not UTF-8 replaced by U+FFFD, counted in ``decoding``."""
    text, count = _ESCAPED.subn("\ufffd", data.decode("utf-8", "surrogateescape"))
    if decoding is not None:
        decoding.invalid_bytes += count
    return text.encode("utf-8")


def utf8_head(head: bytes) -> bytes:
    """The first bytes of a source as UTF-8 (BOM-marked UTF-16/32 decoded, a UTF-8 BOM dropped)."""
    codec = bom_codec(head)
    if codec is None:
        return head.removeprefix(UTF8_BOM)
    cut = len(head) - len(head) % 4
    return codecs.decode(head[:cut], codec, "replace").encode("utf-8")


def utf8_pieces(data: Path | bytes, codec: str, size: int) -> Iterator[bytes]:
    """Decode UTF-16/32 ``data`` (with its BOM) into UTF-8 pieces that end at a line end.

    Read ``size`` bytes at a time through an incremental decoder, so a piece
    is about ``size`` bytes and the whole file is never in memory twice.
    Sequences that are not valid in ``codec`` become U+FFFD.
    """
    decoder = codecs.getincrementaldecoder(codec)("replace")
    pending = b""
    with open(data, "rb") if isinstance(data, Path) else io.BytesIO(data) as fh:
        while chunk := fh.read(size):
            pending += decoder.decode(chunk).encode("utf-8")
            cut = pending.rfind(b"\n") + 1
            if cut:
                yield pending[:cut]
                pending = pending[cut:]
    pending += decoder.decode(b"", final=True).encode("utf-8")
    if pending:
        yield pending
