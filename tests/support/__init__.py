"""What every test may share: where things are, the one timeout scale, free ports.

Servers the tests start (sandboxes, uvicorn apps, nginx) are in
:mod:`tests.support.servers`; each is a context manager that always stops it.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
#: the shared real-world corpus, beside the project (never copied into it)
CORPUS = ROOT.parent / "shared" / "corpus"
#: one constant scales every timeout in the tests (WHYLOOP_TEST_TIMEOUT_SCALE=3 on a slow machine)
TIMEOUT_SCALE = float(os.environ.get("WHYLOOP_TEST_TIMEOUT_SCALE", "1"))
#: a JSON Web Token as it would leak: what the secret checks look for in every output
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}")


def corpus_or_skip(sub: str = "") -> Path:
    """The corpus folder (or a sub-folder), skipping the test when a clone has none."""
    path = CORPUS / sub
    if not path.exists():
        pytest.skip(f"corpus not present at {path} (it lives beside the project, not in it)")
    return path


def free_port() -> int:
    """A port nothing listens on right now (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
