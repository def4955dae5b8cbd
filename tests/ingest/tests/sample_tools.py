"""Run the real test tools over the small suites in tests/fixtures/tests/tools/.

Shared by ``tests/fixtures/tests/make_samples.py`` (which regenerates the
committed samples) and the live tests in ``test_e2e_formats_live.py`` (which
run a tool when it is installed and check whyloop's counts against the
tool's own summary). Each ``run_*`` function writes the tool's result file(s)
into ``out`` and returns what it wrote; it raises :class:`ToolMissing` when
the tool is not installed here.

Where the tools come from: Go (``apt-get install golang-go``) and RSpec
(``apt-get install ruby-rspec``) from the PATH; the npm packages (Jest,
Mocha, mochawesome, Playwright, the CTRF reporters, pinned in
``tools/js/package.json``) and the Python ones (allure-pytest,
pytest-json-ctrf, pytest-rerunfailures) from :data:`TOOLS`, which
``make_samples.py --install`` fills.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCES = Path(__file__).resolve().parents[2] / "fixtures" / "tests" / "tools"
#: where the npm and pip tools are installed (outside the checkout)
TOOLS = Path(
    os.environ.get("WHYLOOP_SAMPLE_TOOLS", Path.home() / ".cache" / "whyloop-sample-tools")
)
NODE_BIN = TOOLS / "js" / "node_modules" / ".bin"
PY_TOOLS = TOOLS / "py" / "bin" / "python"
#: one tool run may take this long (Playwright starts a worker per retry)
TIMEOUT = 300


class ToolMissing(Exception):
    """The tool is not installed here; the message says how to get it."""


def _need(path: Path | str | None, how: str) -> str:
    if path is None or not Path(path).exists():
        raise ToolMissing(how)
    return str(path)


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a test tool; a failing test run exits non-zero, which is expected here."""
    subprocess.run(
        cmd,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=TIMEOUT,
        check=False,
    )


def _workdir(kind: str) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"whyloop-{kind}-"))
    shutil.copytree(SOURCES / kind, work, dirs_exist_ok=True)
    return work


def _js_workdir() -> Path:
    _need(NODE_BIN / "jest", f"npm tools not installed in {TOOLS / 'js'} (make_samples --install)")
    work = _workdir("js")
    (work / "node_modules").symlink_to(TOOLS / "js" / "node_modules")
    return work


def run_jest(out: Path) -> list[Path]:
    """``jest --json`` over tools/js/jest; its config adds jest-ctrf-json-reporter (same run)."""
    work = _js_workdir()
    jest = [str(NODE_BIN / "jest"), "--rootDir", ".", "--ci"]
    _run([*jest, "--json", f"--outputFile={out / 'jest.json'}"], work / "jest")
    shutil.copy(work / "jest" / "ctrf.json", out / "jest-ctrf.json")
    return [out / "jest.json", out / "jest-ctrf.json"]


def run_mocha(out: Path) -> list[Path]:
    """Mocha's json reporter, mochawesome and mocha-ctrf-json-reporter over tools/js/mocha."""
    work = _js_workdir()
    mocha = [str(NODE_BIN / "mocha"), "api.spec.js"]
    _run(
        [*mocha, "--reporter", "json", "--reporter-option", f"output={out / 'mocha.json'}"],
        work / "mocha",
    )
    options = f"reportDir={work},reportFilename=mochawesome,html=false,json=true,quiet=true"
    _run([*mocha, "--reporter", "mochawesome", "--reporter-options", options], work / "mocha")
    shutil.copy(work / "mochawesome.json", out / "mochawesome.json")
    options = f"outputDir={work},outputFile=mocha-ctrf.json"
    _run(
        [*mocha, "--reporter", "mocha-ctrf-json-reporter", "--reporter-options", options],
        work / "mocha",
    )
    shutil.copy(work / "mocha-ctrf.json", out / "mocha-ctrf.json")
    return [out / "mocha.json", out / "mochawesome.json", out / "mocha-ctrf.json"]


def run_playwright(out: Path) -> list[Path]:
    """Playwright's json reporter and playwright-ctrf-json-reporter over tools/js/playwright."""
    work = _js_workdir()
    _run(
        [str(NODE_BIN / "playwright"), "test", "--reporter=json,playwright-ctrf-json-reporter"],
        work / "playwright",
        env={"PLAYWRIGHT_JSON_OUTPUT_NAME": str(out / "playwright.json")},
    )
    shutil.copy(work / "playwright" / "ctrf" / "ctrf-report.json", out / "playwright-ctrf.json")
    return [out / "playwright.json", out / "playwright-ctrf.json"]


def run_go(out: Path) -> list[Path]:
    """``go test -json -count=2 ./...`` over tools/go (a flaky test, a package that exits)."""
    go = _need(shutil.which("go"), "go not on PATH (apt-get install golang-go)")
    work = _workdir("go")
    marker = Path(tempfile.mkdtemp(prefix="whyloop-go-marker-"))
    cache = TOOLS / "go"
    env = {
        "FLAKY_MARKER_DIR": str(marker),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOCACHE": str(cache / "build"),
        "GOPATH": str(cache / "path"),
    }
    target = out / "go-test.jsonl"
    with open(target, "wb") as fh:
        subprocess.run(
            [go, "test", "-json", "-count=2", "./..."],
            cwd=work,
            env={**os.environ, **env},
            stdout=fh,
            stderr=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=False,
        )
    return [target]


def run_rspec(out: Path) -> list[Path]:
    """``rspec --format json`` over tools/rspec, and a run whose spec file does not load."""
    rspec = _need(shutil.which("rspec"), "rspec not on PATH (apt-get install ruby-rspec)")
    work = _workdir("rspec")
    _run(
        [
            rspec,
            "spec/api_spec.rb",
            "spec/threads_spec.rb",
            "--format",
            "json",
            "--out",
            str(out / "rspec.json"),
        ],
        work,
    )
    (work / "spec" / "broken_spec.rb").write_text("RSpec.describe 'broken' do\n  it 'x' do\nend\n")
    _run(
        [
            rspec,
            "spec/broken_spec.rb",
            "--format",
            "json",
            "--out",
            str(out / "rspec-load-error.json"),
        ],
        work,
    )
    return [out / "rspec.json", out / "rspec-load-error.json"]


def run_pytest_allure(out: Path) -> list[Path]:
    """pytest with allure-pytest (``--alluredir``) and pytest-json-ctrf over tools/pytest."""
    python = _need(
        PY_TOOLS, f"allure-pytest not installed in {TOOLS / 'py'} (make_samples --install)"
    )
    work = _workdir("pytest")
    marker = Path(tempfile.mkdtemp(prefix="whyloop-pytest-marker-"))
    results = out / "allure-results"
    shutil.rmtree(results, ignore_errors=True)
    _run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--alluredir={results}",
            f"--ctrf={out / 'pytest-ctrf.json'}",
            "e2e_suite.py",
        ],
        work,
        env={"FLAKY_MARKER_DIR": str(marker)},
    )
    return [results, out / "pytest-ctrf.json"]


RUNNERS = {
    "jest": run_jest,
    "mocha": run_mocha,
    "playwright": run_playwright,
    "go": run_go,
    "rspec": run_rspec,
    "allure": run_pytest_allure,
}


def install() -> None:
    """Install the npm and pip tools into :data:`TOOLS` (npm and pip reach their registries)."""
    js = TOOLS / "js"
    js.mkdir(parents=True, exist_ok=True)
    shutil.copy(SOURCES / "js" / "package.json", js / "package.json")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=js, check=True)
    subprocess.run([sys.executable, "-m", "venv", str(TOOLS / "py")], check=True)
    pins = (SOURCES / "pytest" / "requirements.txt").read_text().split()
    subprocess.run([str(PY_TOOLS), "-m", "pip", "install", "-q", *pins], check=True)


def _compile(source: str, work: Path, extra: list[str], need: str) -> Path:
    cxx = _need(shutil.which("g++"), "g++ not on PATH (apt-get install g++)")
    binary = work / Path(source).stem
    done = subprocess.run(
        [cxx, "-O0", "-o", str(binary), source, *extra],
        cwd=work,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise ToolMissing(f"{source} does not build here ({need})")
    return binary


def run_boost(out: Path) -> list[Path]:
    """Boost.Test's XML log (and its XML report, the tool's own counts) over tools/cxx."""
    work = _workdir("cxx")
    binary = _compile(
        "boost_e2e.cpp", work, ["-lboost_unit_test_framework"], "apt-get install libboost-test-dev"
    )
    _run(
        [
            str(binary),
            "--log_format=XML",
            "--log_level=all",
            f"--log_sink={out / 'boost-test.xml'}",
            "--report_format=XML",
            "--report_level=short",
            f"--report_sink={out / 'boost-test-report.xml'}",
        ],
        work,
    )
    return [out / "boost-test.xml", out / "boost-test-report.xml"]


def run_cppunit(out: Path) -> list[Path]:
    """CppUnit's XmlOutputter report over tools/cxx."""
    work = _workdir("cxx")
    binary = _compile("cppunit_e2e.cpp", work, ["-lcppunit"], "apt-get install libcppunit-dev")
    _run([str(binary), str(out / "cppunit.xml")], work)
    return [out / "cppunit.xml"]


def run_qtest(out: Path) -> list[Path]:
    """QTestLib's XML log and its text log (whose Totals line is the tool's count)."""
    work = _workdir("cxx")
    moc = shutil.which("moc") or "/usr/lib/qt5/bin/moc"
    _need(moc, "moc not found (apt-get install qtbase5-dev)")
    subprocess.run([moc, "qtest_e2e.cpp", "-o", "qtest_e2e.moc"], cwd=work, check=False)
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "Qt5Test", "Qt5Core"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    binary = _compile("qtest_e2e.cpp", work, ["-fPIC", *flags], "apt-get install qtbase5-dev")
    _run(
        [str(binary), "-o", f"{out / 'qtestlib.xml'},xml", "-o", f"{out / 'qtestlib.txt'},txt"],
        work,
    )
    return [out / "qtestlib.xml", out / "qtestlib.txt"]


RUNNERS.update({"boost": run_boost, "cppunit": run_cppunit, "qtest": run_qtest})
