"""``whyloop probe ws URL``: the staged WebSocket probe on the command line.

:func:`add_parser` adds the ``ws`` subcommand to the ``probe`` subparsers;
:func:`run` turns the arguments into one :func:`~whyloop.probes.websocket.probe_ws`
call and prints the result (a table, or ``--json``). Exit status: 0 when every
stage passed, 1 when one failed, 2 for bad arguments. Every printed line
comes from the redacted ``ProbeResult.to_dict()``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from whyloop.errors import ProbeError
from whyloop.probes.websocket import AUTH_CHOICES, DEFAULT_EXPECT, DEFAULT_SEND, probe_ws
from whyloop.redact import redact_text

__all__ = ["EXAMPLE", "add_parser", "run"]

EXAMPLE = "whyloop probe ws ws://127.0.0.1:8080/ws --token-env TOKEN --auth auto"


def add_parser(sub: Any) -> None:
    """Add the ``ws`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "ws",
        help="probe a WebSocket stage by stage: dns, tcp, tls, upgrade, subprotocol, auth, ...",
        description=(
            "Connect to a WebSocket and time each stage (dns, tcp, tls, upgrade, subprotocol, "
            "auth, welcome, echo, close); stop at the first that fails and say why."
        ),
        epilog="example: " + EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", metavar="URL", help="ws:// or wss:// URL")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--token", help="the credential (prefer --token-env: argv is visible to ps)")
    token.add_argument("--token-env", metavar="VAR", help="read the token from environment VAR")
    p.add_argument(
        "--auth",
        choices=AUTH_CHOICES,
        help="how to send the token; auto tries each way and reports which the server accepts "
        "(default: header with a token, else none)",
    )
    p.add_argument(
        "--subprotocol-format",
        default="jwt.{token}",
        metavar="FMT",
        help="subprotocols built from the token, comma-separated (%(default)s; e.g. 'bearer,{token}')",
    )
    p.add_argument("--origin", help="send this Origin header")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="an extra request header (repeatable)",
    )
    p.add_argument(
        "--expect-first",
        default=DEFAULT_EXPECT,
        metavar="TYPE",
        help="type of the first server message (%(default)s); 'none' skips the welcome stage",
    )
    p.add_argument("--send", metavar="JSON", help=f"the echo message (default {DEFAULT_SEND})")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per stage (%(default)s)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="skip TLS verification (the certificate is still reported)",
    )
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args: argparse.Namespace) -> int:
    """Probe, print, and return the exit status (0 ok, 1 a stage failed, 2 bad arguments)."""
    try:
        token = args.token
        if args.token_env:
            token = os.environ.get(args.token_env)
            if not token:
                raise ProbeError(f"--token-env {args.token_env}: the variable is not set or empty")
        result = probe_ws(
            args.url,
            token=token,
            auth=args.auth or ("header" if token else "none"),
            origin=args.origin,
            headers=args.header,
            expect_first=args.expect_first,
            send=args.send,
            timeout=args.timeout,
            insecure=args.insecure,
            subprotocol_format=args.subprotocol_format,
        )
    except ProbeError as exc:
        print(f"whyloop: {redact_text(str(exc))}", file=sys.stderr)
        return 2
    data = result.to_dict()
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(format_result(data))
    return 0 if result.ok else 1


def format_result(data: dict[str, Any]) -> str:
    """The human report of a ``ProbeResult.to_dict()``: stage table, auth matrix, diagnosis, evidence."""
    lines = [f"probe {data['target']}", ""]
    for stage in data["stages"]:
        mark = "✓" if stage["ok"] else "✗"
        ms = "-" if stage["ms"] is None else f"{stage['ms']:.1f}"
        lines.append(
            f"  {mark} {stage['name']:<12} {ms:>9} ms  {stage['detail'].get('summary', '')}"
        )
    if data.get("auth_matrix"):
        lines += ["", "auth matrix:"]
        for row in data["auth_matrix"]:
            verdict = "accepted" if row["accepted"] else "refused"
            lines.append(f"  {row['method']:<12} {verdict:<9} {row['detail']}")
    lines += [
        "",
        f"{'ok' if data['ok'] else 'FAILED at ' + data['failed_stage']}: {data['diagnosis']}",
    ]
    lines += ["", "evidence:", *(f"  - {e}" for e in data["evidence"])]
    return "\n".join(redact_text(line) for line in lines)
