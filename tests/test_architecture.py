"""The one architecture test: the parts of the package, the imports they may not make, the pure modules.

Everything the layout promises is declared here, in one place:

- ``PARTS``: which top-level names of ``whyloop`` make up each part;
- ``FORBIDDEN``: the parts each part must not import (imports run one way:
  ingest < analyze < probes < whys < postmortem < known < report < sandbox < cli, with the store apart);
- ``PURE``: the modules that must not import network, subprocess or
  notebook code (parsers, analysis, the probes' judges).

A listed module that does not exist fails the test: renaming a module means
renaming it here too, so the guard cannot silently go stale.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "whyloop"

#: part -> the top-level names under whyloop/ that belong to it
PARTS: dict[str, set[str]] = {
    "base": {"errors", "schema", "results", "redact"},
    "store": {"store", "store_locks"},
    "ingest": {"ingest"},
    "analyze": {"analyze"},
    "pull": {"pull"},
    "probes": {"probes"},
    "whys": {"whys"},
    "postmortem": {"postmortem"},
    "known": {"known"},
    "report": {"report"},
    "sandbox": {"sandbox"},
    "cli": {"cli", "__main__"},
    "api": {"__init__"},  # whyloop/__init__.py: the public names, gathered from the parts
}
_ALL = set(PARTS)
#: part -> parts it must not import
FORBIDDEN: dict[str, set[str]] = {
    "base": _ALL - {"base"},  # (api included: nothing imports the facade)
    "store": _ALL - {"base", "store"},
    "ingest": _ALL - {"base", "ingest"},
    "analyze": _ALL - {"base", "store", "ingest", "analyze"},
    "pull": _ALL - {"base", "ingest", "analyze", "pull"},
    "probes": _ALL - {"base", "ingest", "analyze", "pull", "probes"},
    "whys": {"probes", "postmortem", "known", "report", "sandbox", "cli", "api"},
    "postmortem": {"probes", "known", "report", "sandbox", "cli", "api"},
    "known": {"probes", "report", "sandbox", "cli", "api"},
    "report": {"sandbox", "cli", "api"},
    "sandbox": {"cli", "api"},
    "cli": set(),
    "api": {"cli"},
}
#: modules that must import no network, subprocess or notebook code
PURE: list[str] = [
    "errors.py",
    "schema.py",
    "results.py",
    *(f"redact/{m}.py" for m in ("__init__", "names", "text", "tables")),
    "store.py",
    "store_locks.py",
    "pull.py",
    "ingest/arrow.py",
    *(f"ingest/tests/{m}.py" for m in ("contract", "values", "detect", "dotnet", "frame")),
    *(f"ingest/tests/{m}.py" for m in ("junit", "junit_cases", "nunit", "xunit_trx")),
    *(f"ingest/tests/{m}.py" for m in ("pytest_json", "xmlsafe", "read")),
    *(f"ingest/tests/{m}.py" for m in ("dtd", "jsonfmt", "gotest", "jest", "playwright", "mocha")),
    *(f"ingest/tests/{m}.py" for m in ("rspec_dart", "ctrf", "allure", "cxx_xml")),
    *(f"ingest/logs/{m}.py" for m in ("read", "frame", "fields", "times", "json", "text")),
    *(f"ingest/logs/{m}.py" for m in ("lines", "records", "encoding", "formats", "logfmt")),
    *(f"analyze/{m}.py" for m in ("signatures", "categories", "summary", "flaky")),
    *(f"analyze/{m}.py" for m in ("evidence", "rules", "findings")),
    *(f"analyze/{m}.py" for m in ("clusters", "correlate", "compare", "history", "verdict")),
    *(f"analyze/templates{m}.py" for m in ("", "_mask", "_group", "_diff", "_failures")),
    "probes/hosts.py",
    "probes/tls.py",
    *(f"probes/ws/{m}.py" for m in ("observations", "judge", "matrix", "wording")),
    *(f"probes/ws/{m}.py" for m in ("judge_socket", "wording_auth", "patterns", "protocols")),
    *(f"probes/ws/{m}.py" for m in ("inputs", "recipes")),
    *(f"probes/http/{m}.py" for m in ("observations", "judge", "cors", "certs", "wording")),
    *(f"probes/suite/{m}.py" for m in ("spec", "verdicts", "load_stats")),
    *(f"whys/{m}.py" for m in ("model", "evidence", "refs", "files", "reader", "cite")),
    *(f"whys/{m}.py" for m in ("draft", "check", "verify", "render", "view", "yamlfile")),
    *(f"postmortem/{m}.py" for m in ("model", "reader", "files", "gather", "causes")),
    *(f"postmortem/{m}.py" for m in ("timeline", "story", "build", "check", "render")),
    *(f"known/{m}.py" for m in ("keys", "entries", "index", "match", "failures", "wording")),
    "known/postmortems.py",
    *(f"report/{m}.py" for m in ("sections", "metrics", "params", "outputs")),
    *(f"report/{m}.py" for m in ("deployment", "triage", "probes")),
    "report/progress.py",
    *(f"analyze/{m}.py" for m in ("triage", "health")),
]
EDGE = {
    "httpx",
    "websockets",
    "aiohttp",
    "asyncio",
    "socket",
    "ssl",
    "subprocess",
    "papermill",
    "nbclient",
    "jupyter_client",
}
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts): p
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _part(module: str) -> str:
    top = module.split(".")[0]
    return next(name for name, tops in PARTS.items() if top in tops)


def _imports(path: Path) -> set[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            if node.module == "whyloop":
                found |= {f"whyloop.{a.name}" for a in node.names}
    return found


def test_every_module_belongs_to_a_declared_part() -> None:
    tops = set().union(*PARTS.values())
    strays = sorted(m for m in _modules() if m.split(".")[0] not in tops)
    assert not strays, f"not in any part of PARTS: {strays}"


def test_parts_import_only_downwards() -> None:
    wrong = []
    for module, path in _modules().items():
        part = _part(module)
        for name in _imports(path):
            if name.startswith("whyloop."):
                target = _part(name.removeprefix("whyloop."))
                if target in FORBIDDEN[part]:
                    wrong.append(f"{module} ({part}) imports {name} ({target})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_parts() -> None:
    edges: dict[str, set[str]] = {p: set() for p in PARTS}
    for module, path in _modules().items():
        for name in _imports(path):
            if name.startswith("whyloop."):
                target = _part(name.removeprefix("whyloop."))
                if target != _part(module):
                    edges[_part(module)].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in edges[start]
        )

    cycles = [p for p in PARTS if reaches(p, p, {p})]
    assert not cycles, f"parts on an import cycle: {cycles} ({edges})"


@pytest.mark.parametrize("rel", PURE)
def test_pure_modules_import_no_network_subprocess_or_notebook_code(rel: str) -> None:
    path = PACKAGE / rel
    assert path.is_file(), f"{rel} is listed as pure but does not exist: update PURE"
    edge = {name.split(".")[0] for name in _imports(path)} & EDGE
    assert not edge, f"{rel} imports {sorted(edge)}"


def test_no_module_is_over_500_lines() -> None:
    long = {
        m: n
        for m, p in _modules().items()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these modules: {long}"


def test_import_whyloop_loads_no_network_library() -> None:
    code = (
        "import sys, whyloop, whyloop.analyze, whyloop.store, whyloop.ingest.logs;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'httpx', 'aiohttp', 'websockets', 'papermill'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
