"""The ``whyloop`` command line: each command translates its arguments into one library call.

A :class:`~whyloop.errors.WhyloopError` becomes one line on stderr
(``whyloop: results.xml:12: ...``) and exit status 1; bad arguments exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from whyloop.errors import WhyloopError
from whyloop.redact import redact_text

__all__ = ["main"]

EXAMPLES = {
    "ingest tests": "whyloop ingest tests results/*.xml --categories categories.yaml --loop staging",
    "ingest logs": "whyloop ingest logs 'logs/*.jsonl.gz' --since 2026-11-24T10:00Z --loop staging",
    "store list": "whyloop store list --loop staging",
    "demo": "whyloop demo",
    "sandbox up": "whyloop sandbox up --fault ws-no-welcome --fault slow-agent",
    "sandbox down": "whyloop sandbox down",
    "sandbox faults": "whyloop sandbox faults",
    "sandbox e2e": "whyloop sandbox e2e --junitxml out/results.xml --report-log out/report.jsonl",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="whyloop",
        description="Failure analysis workbench for test-deploy loops.",
        epilog="example: " + EXAMPLES["ingest tests"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser("ingest", help="read test results or logs into pandas / the store")
    isub = ingest.add_subparsers(dest="what", required=True, metavar="WHAT")

    def store_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--loop", help="save into the iteration store under this loop name")
        p.add_argument("--iteration", help="iteration name (default: the next number)")
        p.add_argument("--store", default="data/iterations", help="store root (%(default)s)")
        p.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    tests = isub.add_parser(
        "tests",
        help="JUnit/NUnit/xUnit/TRX XML, pytest report-log or json-report",
        epilog="example: " + EXAMPLES["ingest tests"],
    )
    tests.add_argument("paths", nargs="+", metavar="PATH", help="files, directories or globs")
    tests.add_argument("--categories", metavar="FILE", help="category mapping rules (YAML/JSON)")
    tests.add_argument(
        "--fingerprint-rules",
        metavar="FILE",
        help="extra signature masking rules (YAML list of {pattern, replace})",
    )
    tests.add_argument(
        "--keep-going", action="store_true", help="skip unreadable files (listed as warnings)"
    )
    store_opts(tests)

    logs = isub.add_parser(
        "logs",
        help="JSON lines, Cloud Logging, journald, Docker/CRI or plain text logs",
        epilog="example: " + EXAMPLES["ingest logs"],
    )
    logs.add_argument("sources", nargs="*", metavar="SOURCE", help="files or globs (gzip too)")
    logs.add_argument(
        "--format",
        default="auto",
        choices=["auto", "json", "cloud-logging", "journald", "docker", "cri", "text"],
    )
    logs.add_argument(
        "--command", dest="command_line", metavar="CMD", help="a command whose stdout is the log"
    )
    logs.add_argument("--url", help="an HTTP(S) endpoint serving the log")
    logs.add_argument("--since", help="keep records at or after this time (ISO 8601)")
    logs.add_argument("--until", help="keep records before this time (ISO 8601)")
    logs.add_argument("--max-bytes", type=int, help="read at most this many bytes per source")
    logs.add_argument(
        "--line-format", help="plain text format, e.g. '<Date> <Time> <Level> <Content>'"
    )
    logs.add_argument("--regex", help="plain text regex with named groups")
    logs.add_argument("--service", help="service name for records that carry none")
    store_opts(logs)

    store = sub.add_parser("store", help="list what the iteration store holds")
    ssub = store.add_subparsers(dest="what", required=True, metavar="WHAT")
    slist = ssub.add_parser(
        "list", help="loops and iterations", epilog="example: " + EXAMPLES["store list"]
    )
    slist.add_argument("--store", default="data/iterations")
    slist.add_argument("--loop")
    slist.add_argument("--json", action="store_true")

    sandbox = sub.add_parser("sandbox", help="the local stand-in staging system and its e2e suite")
    bsub = sandbox.add_subparsers(dest="what", required=True, metavar="WHAT")

    def sandbox_parser(name: str, help_: str) -> argparse.ArgumentParser:
        p = bsub.add_parser(name, help=help_, epilog="example: " + EXAMPLES[f"sandbox {name}"])
        p.add_argument("--state-dir", default="data/sandbox", help="state and logs (%(default)s)")
        return p

    bup = sandbox_parser("up", "start the auth service and backend on 127.0.0.1")
    bup.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch on a fault (repeatable)",
    )
    bup.add_argument("--port", type=int, default=0, help="base port (default: free ports)")
    bup.add_argument("--rate-limit", type=int, default=40, help="requests per window per user")
    sandbox_parser("down", "stop the sandbox started in --state-dir")
    sandbox_parser("faults", "list the faults with a one-line description each")
    be2e = sandbox_parser("e2e", "run the 25-test priority-1 e2e suite against the sandbox")
    be2e.add_argument("--junitxml", metavar="FILE", help="write JUnit XML here")
    be2e.add_argument(
        "--report-log", metavar="FILE", help="write pytest report-log JSON lines here"
    )
    for name in ("backend", "auth", "ws"):
        be2e.add_argument(
            f"--{name}-url",
            help=f"target (default: the running sandbox, or $WHYLOOP_{name.upper()}_URL)",
        )
    be2e.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS")

    from whyloop import cli_findings, cli_probe_http, cli_probe_ws, cli_rerun

    probe = sub.add_parser("probe", help="probe the live system: ws, http, or a suite of probes")
    psub = probe.add_subparsers(dest="what", required=True, metavar="WHAT")
    cli_probe_ws.add_parser(psub)
    cli_probe_http.add_parsers(psub)
    cli_rerun.add_parser(sub)
    cli_findings.add_parser(sub)

    demo = sub.add_parser(
        "demo", help="run the main job on the bundled sample", epilog="example: whyloop demo"
    )
    demo.add_argument("--store", default="data/iterations")
    demo.add_argument(
        "--offline", action="store_true", help="use the recorded sample, start nothing"
    )
    return parser


def _print_tests_summary(summary: dict[str, Any]) -> None:
    rate = summary["pass_rate"]
    print(
        f"tests: {summary['total']}  passed {summary['passed']}  failed {summary['failed']}  "
        f"errors {summary['errors']}  skipped {summary['skipped']}  "
        f"pass rate {'n/a' if rate is None else f'{rate:.1%}'}  duration {summary['duration_s']:.1f} s"
    )
    if summary.get("executions", 0) != summary["total"]:
        print(f"executions: {summary['executions']} (reruns), flaky tests: {summary['flaky']}")
    formats = sorted({f["format"] for f in summary["files"] if f.get("format")})
    print(f"files: {len(summary['files'])} ({', '.join(formats) or 'none readable'})")
    if summary["by_category"]:
        print("by category:")
        width = max(len(c) for c in summary["by_category"])
        for name, c in summary["by_category"].items():
            pr = "" if c["pass_rate"] is None else f"{c['pass_rate']:7.1%}"
            print(f"  {name:<{width}}  {c['passed']:>4}/{c['total']:<4} {pr}")
    _print_warnings(summary["warnings"])


def _print_warnings(warnings: list[str]) -> None:
    if warnings:
        print(f"warnings: {len(warnings)}")
        for w in warnings[:10]:
            print("  " + redact_text(w))
        if len(warnings) > 10:
            print(f"  ... and {len(warnings) - 10} more")


def _save(args: argparse.Namespace, table: str, df: Any, sources: list[str]) -> str | None:
    if not args.loop:
        return None
    from whyloop.store import Store

    folder = Store(args.store).write(args.loop, args.iteration, sources=sources, **{table: df})
    return str(folder)


def _ingest_tests(args: argparse.Namespace) -> int:
    from whyloop.ingest.signature import load_fingerprint_rules
    from whyloop.ingest.tests import read_tests, summarize_tests

    rules = load_fingerprint_rules(args.fingerprint_rules) if args.fingerprint_rules else None
    df = read_tests(
        args.paths,
        categories=args.categories,
        fingerprint_rules=rules,
        errors="warn" if args.keep_going else "raise",
    )
    summary = summarize_tests(df)
    saved = _save(args, "tests", df, [f["path"] for f in summary["files"]])
    if args.json:
        print(json.dumps({**summary, "saved_to": saved}, default=str))
    else:
        _print_tests_summary(summary)
        if saved:
            print(f"saved: {saved}")
    readable = [f for f in summary["files"] if f.get("format")]
    return 0 if readable else 1


def _ingest_logs(args: argparse.Namespace) -> int:
    from whyloop.ingest.log_summary import summarize_logs
    from whyloop.ingest.logs import read_logs

    if not (args.sources or args.command_line or args.url):
        raise SystemExit("whyloop ingest logs: give a SOURCE, --command or --url")
    df = read_logs(
        args.sources or None,
        format=args.format,
        command=args.command_line,
        url=args.url,
        since=args.since,
        until=args.until,
        max_bytes=args.max_bytes,
        line_format=args.line_format,
        regex=args.regex,
        service=args.service,
    )
    summary = summarize_logs(df)
    sources = [str(s) for s in (args.sources or [])] + [
        x for x in (args.command_line, args.url) if x
    ]
    saved = _save(args, "logs", df, [redact_text(s) for s in sources])
    if args.json:
        print(json.dumps({**summary, "saved_to": saved}, default=str))
    else:
        print(
            f"log records: {summary['rows']}  from {summary['start']} to {summary['end']}  "
            f"format {summary['format']}"
        )
        for key in ("by_level", "by_service"):
            if summary[key]:
                print(
                    f"{key.replace('_', ' ')}: "
                    + ", ".join(f"{k} {v}" for k, v in summary[key].items())
                )
        _print_warnings(summary["warnings"])
        if saved:
            print(f"saved: {saved}")
    return 0


def _store_list(args: argparse.Namespace) -> int:
    from whyloop.store import Store

    store = Store(args.store)
    loops = [args.loop] if args.loop else store.loops()
    listing = {
        loop: {
            it: {name: t["rows"] for name, t in store.manifest(loop, it)["tables"].items()}
            for it in store.iterations(loop)
        }
        for loop in loops
    }
    if args.json:
        print(json.dumps(listing))
    elif not listing:
        print(f"no iterations under {args.store}")
    for loop, its in ({} if args.json else listing).items():
        print(f"{loop}:")
        for it, tables in its.items():
            print(f"  {it}: " + ", ".join(f"{k} {v} rows" for k, v in tables.items()))
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    import os

    from whyloop import sandbox

    if args.what == "faults":
        faults = sandbox.list_faults()
        width = max(map(len, faults))
        for name, text in faults.items():
            print(f"{name:<{width}}  {text}")
        return 0
    if args.what == "up":
        box = sandbox.up(
            faults=args.fault, port=args.port, state_dir=args.state_dir, rate_limit=args.rate_limit
        )
        box.detach()
        print(f"auth     {box.auth_url}")
        print(f"backend  {box.backend_url}")
        print(f"ws       {box.ws_url}")
        print("faults   " + (", ".join(box.faults) or "none"))
        for name, path in box.log_paths.items():
            print(f"log      {name}: {path}")
        print("stop it with: whyloop sandbox down")
        return 0
    if args.what == "down":
        stopped = sandbox.down(args.state_dir)
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
        return 0
    urls = {
        n: getattr(args, f"{n}_url") or os.environ.get(f"WHYLOOP_{n.upper()}_URL")
        for n in ("backend", "auth", "ws")
    }
    if not all(urls.values()):
        running = sandbox.status(args.state_dir)["urls"]
        urls = {n: urls[n] or running[n] for n in urls}
    return sandbox.run_e2e(
        backend_url=urls["backend"],
        auth_url=urls["auth"],
        ws_url=urls["ws"],
        junitxml=args.junitxml,
        report_log=args.report_log,
        extra_args=args.pytest_args,
    )


def _demo(args: argparse.Namespace) -> int:
    from whyloop.demo import run_demo

    return run_demo(store_root=Path(args.store), offline=args.offline)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 1 a whyloop error, 2 bad arguments)."""
    args = _parser().parse_args(argv)
    handlers = {
        ("ingest", "tests"): _ingest_tests,
        ("ingest", "logs"): _ingest_logs,
        ("store", "list"): _store_list,
        ("demo", None): _demo,
        **{("sandbox", w): _sandbox for w in ("up", "down", "faults", "e2e")},
    }
    from whyloop import cli_findings, cli_probe_http, cli_probe_ws, cli_rerun

    handlers[("findings", None)] = cli_findings.run
    handlers[("probe", "ws")] = cli_probe_ws.run
    handlers[("probe", "http")] = cli_probe_http.run_http
    handlers[("probe", "suite")] = cli_probe_http.run_suite
    handlers[("rerun", None)] = cli_rerun.run
    handler = handlers[(args.command, getattr(args, "what", None))]
    try:
        return handler(args)
    except WhyloopError as exc:
        print(f"whyloop: {redact_text(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("whyloop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
