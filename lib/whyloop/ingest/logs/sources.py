"""Where log bytes come from: files, globs, gzip, commands and HTTP(S) (the I/O edge).

:func:`open_sources` resolves what the caller named into :class:`LogSource`
objects, each holding either a local uncompressed file to parse in place
(the fast path: DuckDB reads it directly) or the bytes read so far. The
parsers never touch the filesystem, a process or the network themselves.

Every source is bounded: ``max_bytes`` cuts it at the last complete line
within that many bytes (a warning says so), a command and a URL have a
``timeout``, and a URL has a size cap even without ``max_bytes``.
Failures raise :class:`~whyloop.errors.IngestError` as one line naming the
source: ``kubectl logs api: exited with status 1: error: pod not found``.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from whyloop.errors import IngestError

if TYPE_CHECKING:  # httpx loads when a URL is read, not on import
    import httpx
from whyloop.redact import redact_text

__all__ = ["URL_LIMIT", "LogSource", "open_sources", "read_command", "read_file", "read_url"]

#: Bytes read from a URL when no ``max_bytes`` is given.
URL_LIMIT = 512 * 1024 * 1024

_GZIP = b"\x1f\x8b"
_CHUNK = 1 << 20

SourceSpec = str | os.PathLike[str] | bytes


@dataclass
class LogSource:
    """One resolved log source: a file to parse in place, or bytes.

    ``name`` is what the ``source`` column and warnings call it (the path, the
    command line or the URL, with secrets redacted).
    """

    name: str
    path: Path | None = None
    data: bytes | None = None
    warnings: list[str] = field(default_factory=list)

    def head(self, size: int = 65536) -> bytes:
        """The first ``size`` bytes, for format detection."""
        if self.data is not None:
            return self.data[:size]
        assert self.path is not None
        with open(self.path, "rb") as fh:
            return fh.read(size)


def open_sources(
    source: SourceSpec | Sequence[SourceSpec] | None = None,
    *,
    command: str | Sequence[str] | None = None,
    url: str | None = None,
    max_bytes: int | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> list[LogSource]:
    """Resolve files, globs, raw bytes, a command and a URL into :class:`LogSource` objects.

    A string with ``*``, ``?`` or ``[`` is a glob (``**`` recurses), one
    starting with ``http://`` or ``https://`` a URL; ``bytes`` are log content.
    ``command`` is an argument list or a shell-like string (run without a
    shell). ``transport`` replaces httpx's network transport (tests).
    """
    specs: list[SourceSpec] = []
    if isinstance(source, (str, bytes, os.PathLike)):
        specs = [source]
    elif source is not None:
        specs = list(source)
    out: list[LogSource] = []
    for spec in specs:
        if isinstance(spec, bytes):
            out.append(_limited(LogSource("<bytes>", data=spec), max_bytes))
        elif isinstance(spec, str) and spec.startswith(("http://", "https://")):
            out.append(read_url(spec, max_bytes=max_bytes, timeout=timeout, transport=transport))
        elif isinstance(spec, str) and any(c in spec for c in "*?["):
            matches = sorted(p for p in glob.glob(spec, recursive=True) if os.path.isfile(p))
            if not matches:
                raise IngestError("no files match this pattern", path=spec)
            out += [read_file(p, max_bytes=max_bytes) for p in matches]
        else:
            out.append(read_file(spec, max_bytes=max_bytes))
    if command is not None:
        out.append(read_command(command, max_bytes=max_bytes, timeout=timeout))
    if url is not None:
        out.append(read_url(url, max_bytes=max_bytes, timeout=timeout, transport=transport))
    return out


def read_file(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> LogSource:
    """A local file: parsed in place when it is plain and within ``max_bytes``, else read (and gunzipped)."""
    name = os.fspath(path)
    p = Path(path)
    if p.is_dir():
        raise IngestError("is a directory; name its files or a glob such as dir/*.log", path=name)
    try:
        with open(p, "rb") as fh:
            magic = fh.read(2)
            if magic == _GZIP:
                fh.seek(0)
                with gzip.GzipFile(fileobj=fh) as gz:
                    return _limited(LogSource(name, data=_read_capped(gz, max_bytes)), max_bytes)
            if max_bytes is not None and p.stat().st_size > max_bytes:
                fh.seek(0)
                return _limited(LogSource(name, data=fh.read(max_bytes + 1)), max_bytes)
    except FileNotFoundError:
        raise IngestError("no such file", path=name) from None
    except (OSError, EOFError) as err:  # unreadable, or a corrupt gzip stream
        raise IngestError(f"cannot read: {err}", path=name) from None
    return LogSource(name, path=p)


def read_command(
    command: str | Sequence[str], *, max_bytes: int | None = None, timeout: float = 30.0
) -> LogSource:
    """Run ``command`` (no shell) and take its stdout as the log.

    A non-zero exit raises :class:`IngestError` with the first stderr line; so
    does running past ``timeout`` seconds. Past ``max_bytes`` the process is
    stopped and the output kept, with a warning.
    """
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if not argv:
        raise IngestError("empty command")
    name = redact_text(" ".join(("command: " + shlex.join(argv)).split()))
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
    except OSError as err:
        raise IngestError(f"cannot run: {err.strerror or err}", path=name) from None
    assert proc.stdout is not None and proc.stderr is not None
    stderr: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)
    reader.start()
    out = bytearray()
    capped = False
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        proc.kill()

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        while chunk := proc.stdout.read1(_CHUNK):
            out += chunk
            if max_bytes is not None and len(out) > max_bytes:
                capped = True
                proc.kill()
                break
        proc.wait()
    finally:
        timer.cancel()
        proc.stdout.close()
        reader.join(timeout=5)
        proc.stderr.close()
    if fired.is_set():
        raise IngestError(f"timed out after {timeout:g}s", path=name)
    if not capped and proc.returncode:
        first = next(
            (x for x in b"".join(stderr).decode("utf-8", "replace").splitlines() if x.strip()), ""
        )
        raise IngestError(
            f"exited with status {proc.returncode}" + (f": {first}" if first else ""), path=name
        )
    return _gunzip_limited(LogSource(name, data=bytes(out)), max_bytes)


def read_url(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> LogSource:
    """GET ``url`` and take the body as the log (at most ``max_bytes``, else :data:`URL_LIMIT`)."""
    name = redact_text(url)
    cap = URL_LIMIT if max_bytes is None else max_bytes
    import httpx

    try:
        with (
            httpx.Client(timeout=timeout, transport=transport, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if not response.is_success:
                raise IngestError(
                    f"HTTP {response.status_code} {response.reason_phrase}", path=name
                )
            body = bytearray()
            deadline = time.monotonic() + timeout  # httpx's timeout is per read, not in all
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > cap:
                    break
                if time.monotonic() > deadline:
                    raise IngestError(f"timed out after {timeout:g}s", path=name)
    except httpx.HTTPError as err:
        raise IngestError(f"{type(err).__name__}: {err}", path=name) from None
    return _gunzip_limited(LogSource(name, data=bytes(body)), cap)


def _read_capped(stream: io.BufferedIOBase | gzip.GzipFile, max_bytes: int | None) -> bytes:
    return stream.read() if max_bytes is None else stream.read(max_bytes + 1)


def _gunzip_limited(src: LogSource, max_bytes: int | None) -> LogSource:
    """Decompress gzip content (told by its magic bytes), then apply the cap."""
    if src.data is not None and src.data[:2] == _GZIP:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(src.data)) as gz:
                src.data = _read_capped(gz, max_bytes)
        except (OSError, EOFError) as err:
            raise IngestError(f"corrupt gzip data: {err}", path=src.name) from None
    return _limited(src, max_bytes)


def _limited(src: LogSource, max_bytes: int | None) -> LogSource:
    """Cut ``src.data`` at the last line end within ``max_bytes``, with a warning."""
    data = src.data
    if max_bytes is None or data is None or len(data) <= max_bytes:
        return src
    cut = data.rfind(b"\n", 0, max_bytes) + 1 or max_bytes
    src.data = data[:cut]
    src.warnings.append(f"{src.name}: truncated at {cut} bytes (max_bytes={max_bytes})")
    return src
