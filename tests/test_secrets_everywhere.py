"""One secret of each kind, planted everywhere whyloop reads, found nowhere it writes.

The secrets go into test results (a JUnit file's message, traceback, output
and a property; a pytest report-log's traceback, output and user property),
logs (a JSON log's message and nested fields, a text log, the sandbox's own
request log) and probes (headers, the token, query parameters). Then the
real commands run: ``ingest tests``/``ingest logs`` (text and ``--json``,
saving to a store), ``probe ws``/``probe http`` (text and ``--json``),
``findings``, ``store list``, ``demo --offline``, and the ingest notebook
through papermill. Every output is scanned: printed text, the frames, the
store's Parquet files (raw bytes and decoded) and manifests, the executed
notebook. A secret may show its masked prefix (at most 4 characters), never a
run of 5 of its characters. Each kind has its own random value, so a leak
names the kind and where it leaked.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill as pm
import pyarrow.parquet as pq
import pytest

import whyloop
from tests.support import JWT_RE, ROOT
from tests.support.sandbox import OK_S, login, sandbox
from whyloop import cli
from whyloop.redact import redact_value

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

#: No vowels and no hex letters: no word, id or hash in an output holds a run of these by chance.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZbcdfghjklmnpqrstvwxz23456789"
_UPPER = "BCDFGHJKLMNPQRSTVWXZ23456789"
_RNG = random.SystemRandom()
RUN = 5  # a leak: this many characters of a secret in a row


def _rand(n: int, alphabet: str = ALPHABET) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt() -> str:
    head = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = _b64url(json.dumps({"sub": _rand(12)}).encode())
    return f"{head}.{body}.{_rand(43)}"


BASIC_PASSWORD = _rand(14)
#: kind -> its value, one of each kind the issue names (and a few more), each random
SECRETS: dict[str, str] = {
    "text_password": _rand(14),  # password= in a failure message
    "json_password": _rand(14),  # "password": "..." in captured output
    "url_password": _rand(16),  # https://alice:...@host in a traceback
    "query_api_key": _rand(20),  # ?api_key= in a traceback
    "query_access_token": _rand(24),  # access_token= in a report-log traceback
    "bearer": _rand(32),  # Authorization: Bearer, opaque
    "jwt": _jwt(),  # a bare JWT in a failure message
    "basic": base64.b64encode(f"probe:{BASIC_PASSWORD}".encode()).decode(),
    "basic_password": BASIC_PASSWORD,  # (only ever encoded, never written plain)
    "cookie": _rand(24),  # Cookie: session=
    "aws": "AKIA" + _rand(16, _UPPER),
    "stripe": "sk_live_" + _rand(24),
    "github": "ghp_" + _rand(36),
    "property_password": _rand(14),  # <property name="db_password" value="...">
    "reportlog_session": _rand(20),  # user_properties [["session_token", ...]]
    "reportlog_pwd": _rand(14),  # PWD= in report-log captured output
    "log_text_password": _rand(14),  # password= in a JSON log message
    "log_query_token": _rand(24),  # requestUrl ...?token=
    "field_password": _rand(14),  # jsonPayload.auth.password
    "field_api_key": _rand(20),  # jsonPayload.credentials.api_key
    "field_session": _rand(20),  # jsonPayload.session
    "field_cookie": _rand(20),  # httpRequest.headers.Cookie
    "field_list_token": _rand(20),  # a list of objects (kept as JSON text)
    "textlog_secret": _rand(16),  # secret= in a text log line
    "textlog_bearer": _rand(32),  # Bearer in a text log line
    "header_api_key": _rand(24),  # probe ws --header "X-Api-Key: ..."
    "header_cookie": _rand(24),  # probe http --header "Cookie: sid=..."
    "probe_query_token": _rand(24),  # probe http URL ?access_token=
    "login_password": _rand(14),  # the sandbox login's password
    "rerun_password": _rand(14),  # password= in the message of a test that fails when rerun
    "rerun_stdout": _rand(24),  # api_key= printed by it
}


def _windows(value: str) -> set[str]:
    return {value[i : i + RUN] for i in range(len(value) - RUN + 1)}


def leaks(text: str, secrets: dict[str, str]) -> set[str]:
    """The kinds of secret that ``text`` holds whole or as a run of 5 of their characters."""
    found = {kind for kind, value in secrets.items() if value in text}
    plain: dict[str, str] = {}  # windows of the alphabet, found through its runs
    for kind, value in secrets.items():
        # a JWT's header and claims are base64 JSON, as any base64 JSON (Parquet's schema
        # holds some): its random signature is what must not show
        for window in _windows(value.rsplit(".", 1)[-1] if JWT_RE.fullmatch(value) else value):
            if set(window) <= set(ALPHABET):
                plain[window] = kind
            elif window in text:
                found.add(kind)
    for run in re.finditer(f"[{ALPHABET}]{{{RUN},}}", text):
        for window in _windows(run.group()):
            if window in plain:
                found.add(plain[window])
    return found


def _plant(root: Path) -> dict[str, Path]:
    """Write the result files and logs with the secrets in them; their paths by name."""
    s = SECRETS
    results = root / "results"
    results.mkdir()
    (results / "junit.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<testsuites><testsuite name="secrets" tests="2" failures="1" errors="0" '
        'timestamp="2026-11-24T10:00:00" time="3.0">\n'
        '<testcase classname="test_messaging" name="test_thread_creation" time="2.0">'
        f'<properties><property name="db_password" value="{s["property_password"]}"/></properties>'
        f'<failure type="AssertionError" message="password={s["text_password"]} refused '
        f'(create thread: expected HTTP 201, got 500, token {s["jwt"]})">'
        f"POST https://alice:{s['url_password']}@api.example.com/api/threads"
        f"?api_key={s['query_api_key']}\nAuthorization: Bearer {s['bearer']}\n"
        "E   AssertionError: got 500</failure>"
        f"<system-out>Cookie: session={s['cookie']}\n"
        f'{{"password": "{s["json_password"]}", "user": "alice"}}\n'
        f"aws key {s['aws']} and stripe key {s['stripe']}</system-out>"
        f"<system-err>pushed with {s['github']}; Authorization: Basic {s['basic']}</system-err>"
        "</testcase>\n"
        '<testcase classname="test_messaging" name="test_ok" time="1.0"/>\n'
        "</testsuite></testsuites>\n"
    )
    longrepr = (
        f"def test_login():\n>   assert post('/cb?access_token={s['query_access_token']}')"
        "\nE   AssertionError: got 500"
    )
    report = {
        "nodeid": "test_login.py::test_login",
        "location": ["test_login.py", 3, "test_login"],
        "keywords": {"test_login": 1},
        "outcome": "failed",
        "longrepr": longrepr,
        "when": "call",
        "user_properties": [["session_token", s["reportlog_session"]]],
        "sections": [["Captured stdout call", f"PWD={s['reportlog_pwd']}\n"]],
        "duration": 0.5,
        "start": 1795514401.0,
        "stop": 1795514401.5,
        "$report_type": "TestReport",
    }
    (results / "report.jsonl").write_text(
        json.dumps({"pytest_version": "8.3.0", "$report_type": "SessionStart"})
        + "\n"
        + json.dumps(report)
        + "\n"
        + json.dumps({"exitstatus": 1, "$report_type": "SessionFinish"})
        + "\n"
    )
    logs = root / "logs"
    logs.mkdir()
    resource = {"type": "cloud_run_revision", "labels": {"service_name": "backend"}}
    entry = {
        "timestamp": "2026-11-24T10:00:01.000Z",
        "severity": "ERROR",
        "resource": resource,
        "httpRequest": {
            "requestMethod": "POST",
            "requestUrl": f"/api/threads?token={s['log_query_token']}",
            "status": 500,
            "headers": {"Cookie": f"sid={s['field_cookie']}"},
        },
        "jsonPayload": {
            # the secret first: a notebook shows the first 50 characters of a message
            "message": f"password={s['log_text_password']} refused (create thread failed: "
            "sqlite3.OperationalError: database is locked)",
            "auth": {"user": "alice", "password": s["field_password"]},
            "credentials": {"api_key": s["field_api_key"]},
            "session": s["field_session"],
            "session_id": "s-42",
            "items": [{"token": s["field_list_token"]}, {"name": "x"}],
        },
    }
    (logs / "app.jsonl").write_text(json.dumps(entry) + "\n")
    (logs / "app.log").write_text(
        "2026-11-24 10:00:01,500 ERROR app.db: database is locked while saving "
        f"secret={s['textlog_secret']} for Bearer {s['textlog_bearer']}\n"
        "2026-11-24 10:00:02,000 INFO app.db: recovered\n"
    )
    rerun = root / "rerun"
    rerun.mkdir()
    (rerun / "test_leaky.py").write_text(
        "def test_leaky():\n"
        f"    print('api_key={s['rerun_stdout']}')\n"
        f"    assert False, 'password={s['rerun_password']} refused'\n"
    )
    failed = {**report, "nodeid": "test_leaky.py::test_leaky", "longrepr": "AssertionError"}
    failed["location"], failed["user_properties"], failed["sections"] = [], [], []
    (rerun / "report.jsonl").write_text(json.dumps(failed) + "\n")
    return {
        "results": results,
        "json_log": logs / "app.jsonl",
        "text_log": logs / "app.log",
        "rerun": rerun,
    }


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every output of the run, by name: printed text, frames, store files, the notebook."""
    root = tmp_path_factory.mktemp("secrets")
    paths = _plant(root)
    store = root / "store"
    out: dict[str, str] = {}
    env = pytest.MonkeyPatch()

    def run(name: str, *argv: str) -> None:
        code, text = _cli(list(argv))
        assert code == 0, f"{name}: exit {code}\n{text}"
        out[name] = text

    with sandbox(root / "sandbox") as box:
        token = login(box, password=SECRETS["login_password"])
        SECRETS["probe_token"] = token
        env.setenv("WHYLOOP_SECRET_TOKEN", token)
        ws = [box.ws_url, "--token-env", "WHYLOOP_SECRET_TOKEN", "--auth", "auto"]
        ws += ["--header", f"X-Api-Key: {SECRETS['header_api_key']}", "--timeout", str(OK_S)]
        run("probe ws --json", "probe", "ws", *ws, "--json")
        run("probe ws", "probe", "ws", *ws)
        url = f"{box.backend_url}/health?access_token={SECRETS['probe_query_token']}"
        http = [url, "--token-env", "WHYLOOP_SECRET_TOKEN"]
        http += ["--header", f"Cookie: sid={SECRETS['header_cookie']}"]
        run("probe http --json", "probe", "http", *http, "--json")
        run("probe http", "probe", "http", *http)
        result = whyloop.probe_ws(
            box.ws_url,
            token=token,
            auth="auto",
            headers={"X-Api-Key": SECRETS["header_api_key"]},
            timeout=OK_S,
        )
    env.undo()
    sandbox_logs = sorted(str(p) for p in (root / "sandbox" / "logs").glob("*.log"))
    for path in sandbox_logs:
        out[f"sandbox log {Path(path).name}"] = Path(path).read_text()

    save = ["--loop", "sec", "--store", str(store)]
    run("ingest tests", "ingest", "tests", str(paths["results"]))
    run("ingest tests --json", "ingest", "tests", str(paths["results"]), "--json", *save)
    logs = [str(paths["json_log"]), *sandbox_logs]
    run("ingest logs", "ingest", "logs", *logs, str(paths["text_log"]))
    run("ingest logs --json", "ingest", "logs", *logs, "--json", *save, "--iteration", "1")
    text_save = ["--loop", "sec-text", "--store", str(store)]
    run("ingest text log", "ingest", "logs", str(paths["text_log"]), *text_save)
    rerun = [str(paths["rerun"] / "report.jsonl"), "--times", "1", "--rootdir", str(paths["rerun"])]
    rerun += [*save, "--iteration", "1"]
    run(
        "rerun --json", "rerun", *rerun, "--json", "--", "-c", "/dev/null", "-p", "no:cacheprovider"
    )
    run("rerun", "rerun", *rerun, "--replace", "--", "-c", "/dev/null", "-p", "no:cacheprovider")
    run("findings", "findings", *save)
    run("findings --json", "findings", *save, "--json")
    run("store list", "store", "list", "--store", str(store))
    run("demo --offline", "demo", "--offline", "--store", str(store))

    tests = whyloop.read_tests(paths["results"])
    frames = {
        "tests": tests,
        "logs": whyloop.read_logs([paths["json_log"], *sandbox_logs]),
        "text logs": whyloop.read_logs(paths["text_log"]),
    }
    for name, df in frames.items():
        out[f"{name} frame"] = (
            df.to_string() + df.to_json(date_format="iso") + json.dumps(df.attrs, default=str)
        )
    out["probe result"] = json.dumps(result.to_dict())
    findings = whyloop.derive_findings([result], tests=tests, logs=frames["logs"])
    out["findings (API)"] = json.dumps([f.to_dict() for f in findings])

    notebook = root / "ingest.out.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "ingest.ipynb"),
        str(notebook),
        parameters={
            "tests_path": str(paths["results"]),
            "logs_path": str(paths["json_log"]),
            "categories": None,
            "loop": "nb",
            "store_root": str(store),
            "save": True,
        },
        cwd=str(ROOT / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    out["executed notebook"] = notebook.read_text()
    assert not [
        o
        for c in nbformat.read(notebook, as_version=4).cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    for path in sorted(store.rglob("*")):
        if path.is_file():
            out[f"store {path.relative_to(store)}"] = path.read_bytes().decode("latin-1")
            if path.suffix == ".parquet":
                rows = pq.read_table(path).to_pylist()
                out[f"store {path.relative_to(store)} (decoded)"] = json.dumps(rows, default=str)
    yield out


def _cli(argv: list[str]) -> tuple[int, str]:
    """The real CLI, in this process: its exit status and everything it printed."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
    return code, stdout.getvalue() + stderr.getvalue()


def test_the_secrets_reached_every_stage(outputs: dict[str, str]) -> None:
    """Not vacuous: the planted values arrived, masked, where the scan looks."""
    s = SECRETS
    everything = "\n".join(outputs.values())
    for kind in ("text_password", "field_password", "probe_query_token", "textlog_secret"):
        assert redact_value(s[kind]) in everything, kind
    assert "Cookie: sess..." in outputs["tests frame"]
    assert "Bearer eyJh..." in outputs["probe ws --json"]
    notebook = outputs["executed notebook"]
    assert redact_value(s["log_text_password"]) in notebook, "the log message"
    assert "AssertionError: password=" in notebook, "the failure's signature"
    assert "stripe key sk_l..." in outputs["tests frame"]
    assert any(name.startswith("store sec/1/logs") for name in outputs)
    assert "Database lock contention" in outputs["findings"]
    assert "consistent" in outputs["rerun"]
    assert any(name.startswith("store sec/1/reruns") for name in outputs)


def test_no_secret_in_any_output(outputs: dict[str, str]) -> None:
    found = {name: sorted(k) for name, text in outputs.items() if (k := leaks(text, SECRETS))}
    assert not found, f"secrets leaked (output: kinds): {found}"
    whole_jwts = {name for name, text in outputs.items() if JWT_RE.search(text)}
    assert not whole_jwts, f"a whole JWT in: {sorted(whole_jwts)}"


def test_the_scan_finds_a_planted_leak() -> None:
    """The scan itself: a run of 5 from the middle of a secret is found, its masked form is not."""
    value = SECRETS["field_api_key"]
    assert leaks(f"x {value[7:12]} y", SECRETS) == {"field_api_key"}
    assert leaks(f"api_key={redact_value(value)}", SECRETS) == set()
    assert leaks(f"Bearer {SECRETS['jwt'][-9:]}", SECRETS) == {"jwt"}
