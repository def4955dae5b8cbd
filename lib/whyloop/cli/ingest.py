"""``whyloop ingest tests`` and ``whyloop ingest logs``: read results or logs, summarise, save.

Each reads with one library call (:func:`whyloop.read_tests`,
:func:`whyloop.ingest.logs.read.read_logs`), summarises with
:mod:`whyloop.analyze.summary`, prints the summary (or ``--json``) and, with
``--loop``, saves the frame into the store. ``ingest tests`` exits 1 when no
file was readable (with ``--keep-going``, every one was skipped).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from whyloop.cli.options import add_command, add_save_options, bad_argument, save
from whyloop.redact import redact_text

__all__ = ["EXAMPLES", "register"]

EXAMPLES = {
    "tests": "whyloop ingest tests results/*.xml --categories categories.yaml --loop staging",
    "logs": "whyloop ingest logs 'logs/*.jsonl.gz' --since 2026-11-24T10:00Z --loop staging",
}
LOG_FORMATS = ["auto", "json", "cloud-logging", "journald", "docker", "cri", "text"]
MAX_WARNINGS = 10


def register(commands: Any) -> None:
    """Add ``ingest tests`` and ``ingest logs`` to ``commands`` (the top-level subparsers)."""
    group = commands.add_parser("ingest", help="read test results or logs into pandas / the store")
    sub = group.add_subparsers(dest="what", required=True, metavar="WHAT")

    tests = add_command(
        sub,
        "tests",
        help="JUnit/NUnit/xUnit/TRX XML, pytest report-log or json-report",
        example=EXAMPLES["tests"],
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
    add_save_options(tests, "the summary as one JSON object")
    tests.set_defaults(run=run_tests, renamed={"paths": "PATH"})

    logs = add_command(
        sub,
        "logs",
        help="JSON lines, Cloud Logging, journald, Docker/CRI or plain text logs",
        example=EXAMPLES["logs"],
    )
    logs.add_argument("sources", nargs="*", metavar="SOURCE", help="files or globs (gzip too)")
    logs.add_argument("--format", default="auto", choices=LOG_FORMATS)
    logs.add_argument(
        "--command", dest="command_line", metavar="CMD", help="a command whose stdout is the log"
    )
    logs.add_argument("--url", help="an HTTP(S) endpoint serving the log")
    logs.add_argument("--since", help="keep records at or after this time (ISO 8601)")
    logs.add_argument("--until", help="keep records before this time (ISO 8601)")
    logs.add_argument("--max-bytes", type=int, help="read at most this many bytes per source")
    logs.add_argument(
        "--line-format",
        help="plain text format: a built-in name (python-logging, tornado, nginx-error, combined, "
        "syslog, logfmt, klog, ...) or a template whose characters outside <Token> are literal, "
        "e.g. '<Date> <Time> [<Level>] <Content>'; recognised per source when not given",
    )
    logs.add_argument("--regex", help="plain text regex with named groups")
    logs.add_argument("--service", help="service name for records that carry none")
    add_save_options(logs, "the summary as one JSON object")
    logs.set_defaults(run=run_logs, renamed={"source": "SOURCE"})


def _print_warnings(warnings: list[str]) -> None:
    if warnings:
        print(f"warnings: {len(warnings)}")
        for w in warnings[:MAX_WARNINGS]:
            print("  " + redact_text(w))
        if len(warnings) > MAX_WARNINGS:
            print(f"  ... and {len(warnings) - MAX_WARNINGS} more")


def _print_tests_summary(summary: dict[str, Any]) -> None:
    rate = summary["pass_rate"]
    xpassed = f" (xpassed {summary['xpassed']})" if summary["xpassed"] else ""
    print(
        f"tests: {summary['total']}  passed {summary['passed']}{xpassed}  "
        f"failed {summary['failed']}  errors {summary['errors']}  skipped {summary['skipped']}  "
        f"xfailed {summary['xfailed']}  "
        f"pass rate {'n/a' if rate is None else f'{rate:.1%}'}  duration {summary['duration_s']:.1f} s"
    )
    if summary["reruns"]:
        print(
            f"executions: {summary['executions']} ({summary['reruns']} reruns), "
            f"flaky tests: {summary['flaky']}"
        )
    formats = sorted({f["format"] for f in summary["files"] if f.get("format")})
    print(f"files: {len(summary['files'])} ({', '.join(formats) or 'none readable'})")
    if summary["by_category"]:
        print("by category:")
        width = max(len(c) for c in summary["by_category"])
        for name, c in summary["by_category"].items():
            pr = "" if c["pass_rate"] is None else f"{c['pass_rate']:7.1%}"
            print(f"  {name:<{width}}  {c['passed']:>4}/{c['total']:<4} {pr}")
    _print_warnings(summary["warnings"])


def run_tests(args: argparse.Namespace) -> int:
    """``whyloop ingest tests``: read, summarise, print, save; 1 when no file was readable."""
    from whyloop.analyze.signatures import load_fingerprint_rules
    from whyloop.analyze.summary import summarize_tests
    from whyloop.pull import read_results

    rules = load_fingerprint_rules(args.fingerprint_rules) if args.fingerprint_rules else None
    results = read_results(
        args.paths,
        categories=args.categories,
        fingerprint_rules=rules,
        errors="warn" if args.keep_going else "raise",
    )
    summary = summarize_tests(results.tests, results.files)
    sources = [f["path"] for f in summary["files"]]
    saved = save(args, sources, tests=results.tests, files=results.files)
    if args.json:
        print(json.dumps({**summary, "saved_to": saved}, default=str))
    else:
        _print_tests_summary(summary)
        if saved:
            print(f"saved: {saved}")
    readable = [f for f in summary["files"] if f.get("format")]
    return 0 if readable else 1


def run_logs(args: argparse.Namespace) -> int:
    """``whyloop ingest logs``: read, summarise, print, save."""
    from whyloop.analyze.summary import summarize_logs
    from whyloop.ingest.logs.read import read_logs

    if not (args.sources or args.command_line or args.url):
        raise bad_argument("source", "give a SOURCE, --command or --url")
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
    sources = [*args.sources, *(x for x in (args.command_line, args.url) if x)]
    saved = save(args, [redact_text(str(s)) for s in sources], logs=df)
    if args.json:
        print(json.dumps({**summary, "saved_to": saved}, default=str))
        return 0
    line_format = f" ({summary['line_format']})" if summary.get("line_format") else ""
    if summary["format"] == "text" and not line_format:
        line_format = " (no line format recognised: a record per line)"
    print(
        f"log records: {summary['rows']}  from {summary['start']} to {summary['end']}  "
        f"format {summary['format']}{line_format}"
    )
    levels = [f"{k} {v}" for k, v in summary["by_level"].items()]
    if summary["no_level"]:
        levels.append(f"no level {summary['no_level']}")
    if levels:
        print(f"by level: {', '.join(levels)}")
    if summary["by_service"]:
        print(f"by service: {', '.join(f'{k} {v}' for k, v in summary['by_service'].items())}")
    _print_warnings(summary["warnings"])
    if saved:
        print(f"saved: {saved}")
    return 0
