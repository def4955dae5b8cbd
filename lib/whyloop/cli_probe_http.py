"""``whyloop probe http`` and ``whyloop probe suite``: arguments in, one library call, a verdict out.

:func:`add_parsers` adds both subcommands to an argparse subparsers object
(the main CLI hangs them under ``whyloop probe``); each parser's
``handler`` default is :func:`run_http` or :func:`run_suite`. Exit status: 0
when everything passed, 1 when a stage or check failed, 2 for bad arguments
or a suite that cannot run (an unreadable file, a refused host, no sandbox).
Every printed line is redacted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from whyloop.errors import WhyloopError
from whyloop.redact import redact_text

__all__ = ["EXAMPLES", "add_parsers", "run_http", "run_suite"]

EXAMPLES = {
    "http": "whyloop probe http http://127.0.0.1:8081/health --expect-json status=ok",
    "suite": "whyloop probe suite --sandbox-state data/sandbox --loop staging --iteration 3",
}


def add_parsers(sub: Any) -> None:
    """Add the ``http`` and ``suite`` subcommands to ``sub`` (from ``add_subparsers``)."""
    http = sub.add_parser(
        "http",
        help="probe one HTTP endpoint phase by phase (dns, tcp, tls, request, first byte, body)",
        description="Probe one URL: phase timings, status, headers, redirects, TLS, CORS, "
        "expectations. Only the URL's host (and --allow-host) is contacted.",
        epilog="example: " + EXAMPLES["http"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    http.add_argument("url", help="the http:// or https:// URL to probe")
    http.add_argument("--method", default="GET", help="HTTP method (%(default)s)")
    http.add_argument(
        "--header", action="append", default=[], metavar="K:V", help="extra header (repeatable)"
    )
    http.add_argument("--token", help="Bearer token (prefer --token-env: argv is visible)")
    http.add_argument("--token-env", metavar="NAME", help="read the Bearer token from $NAME")
    http.add_argument("--data", metavar="JSON", help="JSON request body")
    http.add_argument("--timeout", type=float, default=10.0, help="seconds per phase (%(default)s)")
    http.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    http.add_argument("--origin", help="send a CORS preflight and Origin header from this origin")
    http.add_argument("--expect-status", type=int, metavar="CODE", help="the status expected")
    http.add_argument(
        "--expect-json",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="a JSON field expected (dotted path, repeatable), e.g. status=ok",
    )
    http.add_argument(
        "--allow-host", action="append", default=[], metavar="HOST", help="also allow this host"
    )
    http.add_argument(
        "--max-redirects", type=int, default=5, help="redirects followed (%(default)s)"
    )
    http.add_argument("--json", action="store_true", help="print the result as one JSON object")
    http.set_defaults(handler=run_http)

    suite = sub.add_parser(
        "suite",
        help="run a YAML suite of probes (load, rate limit, error handling, resilience, http, ws)",
        description="Run the probes a suite file lists and judge them; see whyloop.probes.suite "
        "for the file format. FILE defaults to the bundled sandbox suite.",
        epilog="example: " + EXAMPLES["suite"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    suite.add_argument(
        "file", nargs="?", default="sandbox", metavar="FILE", help="suite YAML, or 'sandbox'"
    )
    suite.add_argument(
        "--sandbox-state",
        metavar="DIR",
        help="take the target URLs from the sandbox running there (default for the bundled "
        "suite: data/sandbox, unless WHYLOOP_BACKEND_URL is set)",
    )
    suite.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a ${NAME}"
    )
    suite.add_argument("--loop", help="save the results into the iteration store under this loop")
    suite.add_argument("--iteration", help="iteration name (default: the next number)")
    suite.add_argument("--store", default="data/iterations", help="store root (%(default)s)")
    suite.add_argument("--json", action="store_true", help="print the results as one JSON object")
    suite.set_defaults(handler=run_suite)


def _fail(message: str) -> int:
    print(f"whyloop: {redact_text(message)}", file=sys.stderr)
    return 2


def _http_options(args: argparse.Namespace) -> dict[str, Any]:
    """Translate the arguments; ValueError names the bad one."""
    headers = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header {item!r} is not of the form Name:Value")
        headers[name.strip()] = value.strip()
    token = args.token
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            raise ValueError(f"--token-env: ${args.token_env} is not set or empty")
    data = None
    if args.data is not None:
        try:
            data = json.loads(args.data)
        except ValueError as exc:
            raise ValueError(f"--data is not valid JSON: {exc}") from None
    if args.max_redirects < 0:
        raise ValueError("--max-redirects must be >= 0")
    from whyloop.probes.hosts import AllowList, host_of

    return {
        "method": args.method,
        "headers": headers,
        "token": token,
        "data": data,
        "timeout": args.timeout,
        "insecure": args.insecure,
        "origin": args.origin,
        "expect_status": args.expect_status,
        "expect_json": list(args.expect_json),
        "allow": AllowList.of([host_of(args.url), *args.allow_host]),
        "max_redirects": args.max_redirects,
    }


def _print_probe(data: dict[str, Any]) -> None:
    verdict = "ok" if data["ok"] else f"FAILED at {data['failed_stage']}"
    print(redact_text(f"{data['target']}: {verdict}"))
    for stage in data["stages"]:
        ms = "" if stage["ms"] is None else f"{stage['ms']:9.2f} ms"
        print(f"  {stage['name']:<11} {'ok' if stage['ok'] else 'FAIL':<5}{ms}".rstrip())
        detail = stage["detail"]
        if stage["name"] == "first_byte" and detail.get("status") is not None:
            hops = len(detail.get("redirects") or [])
            more = f", after {hops} redirect(s)" if hops else ""
            print(f"      status {detail['status']} ({detail.get('http_version')}){more}")
        if stage["name"] == "tls" and detail.get("version"):
            cert = f", subject {detail['subject']}, expires {detail.get('not_after')}"
            print(redact_text(f"      {detail['version']}" + (cert if "subject" in detail else "")))
    print(redact_text(f"diagnosis: {data['diagnosis']}"))
    for line in data["evidence"]:
        print(redact_text(f"  - {line}"))


def run_http(args: argparse.Namespace) -> int:
    """Run ``whyloop probe http``: 0 ok, 1 a stage failed, 2 bad arguments."""
    from whyloop.probes.http import probe_http

    try:
        result = probe_http(args.url, **_http_options(args))
    except (ValueError, WhyloopError) as exc:
        return _fail(str(exc))
    data = result.to_dict()
    if args.json:
        print(json.dumps(data, default=str))
    else:
        _print_probe(data)
    return 0 if result.ok else 1


def _variables(args: argparse.Namespace) -> dict[str, str]:
    values = dict(os.environ)
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--var {item!r} is not of the form NAME=VALUE")
        values[name] = value
    return values


def _print_suite(df: Any) -> None:
    for row in df.itertuples(index=False):
        value = "" if row.value != row.value else f"={row.value:.4g}"  # NaN check
        sla = f" ({row.sla})" if row.sla else ""
        mark = ("WARN" if row.warning else "ok  ") if row.ok else "FAIL"
        line = f"{mark} {row.probe}/{row.check}: {row.metric}{value}{sla}"
        print(redact_text(line))
        if not row.ok and row.diagnosis:
            print(redact_text(f"     {row.diagnosis}"))
    for warning in df.attrs.get("warnings", []):
        print(redact_text(f"warning: {warning}"))
    failed = int((~df["ok"]).sum())
    print(
        f"{len(df)} checks, {failed} failed"
        + (f"; stored in {df.attrs['stored']}" if df.attrs.get("stored") else "")
    )


def run_suite(args: argparse.Namespace) -> int:
    """Run ``whyloop probe suite``: 0 all checks passed, 1 one failed, 2 the suite cannot run."""
    from whyloop.probes import suite

    state = args.sandbox_state
    try:
        variables = _variables(args)
        if state is None and args.file == "sandbox" and "WHYLOOP_BACKEND_URL" not in variables:
            state = "data/sandbox"
        df = suite.run_suite(
            args.file,
            variables=variables,
            sandbox_state=state,
            loop=args.loop,
            iteration=args.iteration,
            store=args.store,
        )
    except (ValueError, WhyloopError) as exc:
        return _fail(str(exc))
    if args.json:
        rows = df.assign(started=df["started"].map(lambda t: t.isoformat())).to_dict("records")
        for row in rows:
            row["detail"] = json.loads(row["detail"])
            row["evidence"] = json.loads(row["evidence"])
            row["value"] = None if row["value"] != row["value"] else row["value"]
        out = {
            "suite": df.attrs.get("suite"),
            "ok": bool(df["ok"].all()),
            "checks": len(df),
            "failed": int((~df["ok"]).sum()),
            "warnings": df.attrs.get("warnings", []),
            "stored": df.attrs.get("stored"),
            "rows": rows,
        }
        print(redact_text(json.dumps(out, default=str)))
    else:
        _print_suite(df)
    return 0 if bool(df["ok"].all()) else 1
