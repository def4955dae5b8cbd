"""``whyloop probe ws|http|suite``: take the live system apart, one library call per command.

``ws`` calls :func:`whyloop.probes.probe_ws`, ``http``
:func:`whyloop.probes.probe_http`, ``suite`` :func:`whyloop.probes.run_suite`
(the bundled suite and the running sandbox's URLs come from
:mod:`whyloop.sandbox`); with ``--loop`` the suite's frame is saved as the
iteration's ``probes`` table. Exit status 1 when a stage or check failed. Every
printed line is redacted (:mod:`.probe_text`). The probe modules load when a
command runs, so that ``whyloop --help`` does not load httpx, aiohttp or websockets.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from whyloop.cli.options import (
    add_command,
    add_json,
    add_save_options,
    bad_argument,
    check_save,
    save,
)
from whyloop.cli.probe_text import format_http, format_suite, format_ws, suite_json

__all__ = ["EXAMPLES", "register"]

EXAMPLES = {
    "ws": "whyloop probe ws ws://127.0.0.1:8080/ws --token-env TOKEN --auth auto",
    "http": "whyloop probe http http://127.0.0.1:8081/health --expect-json status=ok",
    "suite": "whyloop probe suite --sandbox-state data/sandbox --loop staging --iteration 3",
}
#: the FILE that means the bundled suite, whyloop.sandbox.SUITE
BUNDLED = "sandbox"


def register(commands: Any) -> None:
    """Add ``probe ws``, ``probe http`` and ``probe suite`` to ``commands`` (top-level subparsers)."""
    group = commands.add_parser(
        "probe", help="probe the live system: ws, http, or a suite of probes"
    )
    sub = group.add_subparsers(dest="what", required=True, metavar="WHAT")
    _register_ws(sub)
    _register_http(sub)
    _register_suite(sub)


def _subcommand(sub: Any, name: str, help_: str, description: str) -> argparse.ArgumentParser:
    return add_command(sub, name, help=help_, example=EXAMPLES[name], description=description)


def _register_ws(sub: Any) -> None:
    from whyloop.probes.ws.options import AUTH_CHOICES, DEFAULT_EXPECT, DEFAULT_SEND

    p = _subcommand(
        sub,
        "ws",
        "probe a WebSocket stage by stage: dns, tcp, tls, upgrade, subprotocol, auth, ...",
        "Connect to a WebSocket and time each stage (dns, tcp, tls, upgrade, subprotocol, "
        "auth, welcome, echo, close); stop at the first that fails and say why. PATTERN: a "
        "JSON message's type (connection_ack), or re: and a regular expression on the raw "
        "text (re:^40). Protocol recipes (GraphQL, Socket.IO, Jupyter): see the README.",
    )
    p.add_argument("url", metavar="URL", help="ws:// or wss:// URL")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--token", help="the credential (prefer --token-env: argv is visible to ps)")
    token.add_argument("--token-env", metavar="VAR", help="read the token from environment VAR")
    p.add_argument(
        "--auth",
        choices=AUTH_CHOICES,
        help="where the token goes; auto tries no credential and each credential alone (the "
        "token as header, subprotocol and query; --cookie; credential --header) and reports "
        "which the server accepts (default: header with a token, else none)",
    )
    p.add_argument(
        "--subprotocol-format",
        default="jwt.{token}",
        metavar="FMT",
        help="subprotocols built from the token, comma-separated (%(default)s; e.g. 'bearer,{token}')",
    )
    p.add_argument(
        "--subprotocol",
        action="append",
        default=[],
        metavar="NAME",
        help="offer this subprotocol on every attempt (repeatable), e.g. graphql-transport-ws",
    )
    p.add_argument(
        "--cookie",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="send this cookie (repeatable); a credential (prefer --cookie-env)",
    )
    p.add_argument(
        "--cookie-env",
        action="append",
        default=[],
        metavar="NAME=VAR",
        help="send cookie NAME with the value of environment VAR (repeatable)",
    )
    p.add_argument("--origin", help="send this Origin header")
    p.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="an extra request header (repeatable); Authorization, Cookie and API-key style "
        "names count as credentials",
    )
    p.add_argument(
        "--expect-first",
        default=None,
        metavar="PATTERN",
        help=f"the server's first message ({DEFAULT_EXPECT}; none with --client-first); "
        "'none' skips the welcome stage",
    )
    p.add_argument(
        "--send",
        action=_Message,
        dest="messages",
        default=None,
        metavar="TEXT",
        help=f"a text message, JSON or not (repeatable, sent in order; default {DEFAULT_SEND}); "
        "{token} is replaced by the token",
    )
    p.add_argument(
        "--send-binary",
        action=_Message,
        dest="messages",
        metavar="HEX",
        help="a binary message as hex digits (repeatable, in order with --send)",
    )
    p.add_argument(
        "--client-first",
        action="store_true",
        help="send right after the handshake instead of first waiting for the server's message",
    )
    p.add_argument(
        "--expect-reply",
        metavar="PATTERN",
        help="what must answer the last message sent (other messages meanwhile are skipped)",
    )
    p.add_argument(
        "--reject",
        action="append",
        default=[],
        metavar="PATTERN",
        help="a message meaning the application refused (repeatable), e.g. connection_error",
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per stage (%(default)s)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="skip TLS verification (the certificate is still reported)",
    )
    add_json(p)
    p.set_defaults(
        run=run_ws,
        renamed={
            "url": "URL",
            "headers": "--header",
            "cookies": "--cookie",
            "subprotocols": "--subprotocol",
            "send": "--send",
            "send_binary": "--send-binary",
        },
    )


class _Message(argparse.Action):
    """``--send`` and ``--send-binary`` into one list, in the order given: (kind, value) pairs."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        items = list(getattr(namespace, self.dest, None) or [])
        items.append(("binary" if option == "--send-binary" else "text", values))
        setattr(namespace, self.dest, items)


def _register_http(sub: Any) -> None:
    p = _subcommand(
        sub,
        "http",
        "probe one HTTP endpoint phase by phase (dns, tcp, tls, request, first byte, body)",
        "Probe one URL: phase timings, status, headers, redirects, TLS, CORS, "
        "expectations. Only the URL's host (and --allow-host) is contacted.",
    )
    p.add_argument("url", metavar="URL", help="the http:// or https:// URL to probe")
    p.add_argument("--method", default="GET", help="HTTP method (%(default)s)")
    p.add_argument(
        "--header", action="append", default=[], metavar="K:V", help="extra header (repeatable)"
    )
    p.add_argument("--token", help="Bearer token (prefer --token-env: argv is visible)")
    p.add_argument("--token-env", metavar="NAME", help="read the Bearer token from $NAME")
    p.add_argument("--data", metavar="JSON", help="JSON request body")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per phase (%(default)s)")
    p.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    p.add_argument("--origin", help="send a CORS preflight and Origin header from this origin")
    p.add_argument("--expect-status", type=int, metavar="CODE", help="the status expected")
    p.add_argument(
        "--expect-json",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="a JSON field expected (dotted path, repeatable), e.g. status=ok",
    )
    p.add_argument(
        "--allow-host", action="append", default=[], metavar="HOST", help="also allow this host"
    )
    p.add_argument(
        "--max-redirects",
        type=int,
        default=5,
        help="redirects followed (%(default)s); a loop or a longer chain fails the probe; "
        "0 reports the redirect itself",
    )
    add_json(p)
    p.set_defaults(
        run=run_http, renamed={"url": "URL", "headers": "--header", "allow": "--allow-host"}
    )


def _register_suite(sub: Any) -> None:
    p = _subcommand(
        sub,
        "suite",
        "run a YAML suite of probes (load, rate limit, error handling, resilience, http, ws)",
        "Run the probes a suite file lists and judge them; see whyloop.probes.suite.run "
        "for the file format. FILE defaults to the bundled sandbox suite.",
    )
    p.add_argument(
        "file", nargs="?", default=BUNDLED, metavar="FILE", help="suite YAML, or 'sandbox'"
    )
    p.add_argument(
        "--sandbox-state",
        metavar="DIR",
        help="take the target URLs from the sandbox running there (default for the bundled "
        "suite: data/sandbox, unless WHYLOOP_BACKEND_URL is set)",
    )
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="set a ${NAME}")
    add_save_options(p, "the results as one JSON object")
    p.set_defaults(run=run_suite, renamed={"source": "FILE", "variables": "--var"})


def _token(args: argparse.Namespace) -> str | None:
    """``--token``, or the value of the variable ``--token-env`` names (which must be set)."""
    if not args.token_env:
        return args.token
    token = os.environ.get(args.token_env)
    if not token:
        raise bad_argument("token_env", f"token_env: ${args.token_env} is not set or empty")
    return token


def _cookies(args: argparse.Namespace) -> list[str]:
    """``--cookie`` values, then ``--cookie-env NAME=VAR`` read from the environment."""
    cookies = list(args.cookie)
    for item in args.cookie_env:
        name, sep, var = item.partition("=")
        if not sep or not name or not var:
            raise bad_argument("cookie_env", f"cookie_env {item!r} is not of the form NAME=VAR")
        value = os.environ.get(var)
        if not value:
            raise bad_argument("cookie_env", f"cookie_env: ${var} is not set or empty")
        cookies.append(f"{name}={value}")
    return cookies


def run_ws(args: argparse.Namespace) -> int:
    """``whyloop probe ws``: probe, print (a table, or ``--json``); 1 when a stage failed."""
    from whyloop.probes import probe_ws
    from whyloop.probes.ws.inputs import binary_from_hex

    token = _token(args)
    options: dict[str, Any] = {}
    if args.messages is not None:
        options["send"] = [
            binary_from_hex(value) if kind == "binary" else value for kind, value in args.messages
        ]
    if args.expect_first is not None:
        options["expect_first"] = args.expect_first
    result = probe_ws(
        args.url,
        token=token,
        auth=args.auth or ("header" if token else "none"),
        origin=args.origin,
        headers=args.header,
        cookies=_cookies(args),
        subprotocols=args.subprotocol,
        client_first=args.client_first,
        expect_reply=args.expect_reply,
        reject=args.reject,
        timeout=args.timeout,
        insecure=args.insecure,
        subprotocol_format=args.subprotocol_format,
        **options,
    )
    data = result.to_dict()
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else format_ws(data))
    return 0 if result.ok else 1


def _headers(items: list[str]) -> dict[str, str]:
    headers = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise bad_argument("header", f"header {item!r} is not of the form Name:Value")
        headers[name.strip()] = value.strip()
    return headers


def _data(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise bad_argument("data", f"data is not valid JSON: {exc}") from None


def run_http(args: argparse.Namespace) -> int:
    """``whyloop probe http``: probe, print (phases, or ``--json``); 1 when a stage failed."""
    from whyloop.probes import probe_http
    from whyloop.probes.hosts import AllowList

    if args.max_redirects < 0:
        raise bad_argument("max_redirects", "max_redirects must be >= 0")
    result = probe_http(
        args.url,
        method=args.method,
        headers=_headers(args.header),
        token=_token(args),
        data=_data(args.data),
        timeout=args.timeout,
        insecure=args.insecure,
        origin=args.origin,
        expect_status=args.expect_status,
        expect_json=list(args.expect_json),
        allow=AllowList.of([args.url, *args.allow_host]),
        max_redirects=args.max_redirects,
    )
    data = result.to_dict()
    print(json.dumps(data, default=str) if args.json else format_http(data))
    return 0 if result.ok else 1


def _variables(args: argparse.Namespace) -> dict[str, str]:
    """The environment, ``--var``s over it, then the sandbox's URLs when it is the target."""
    from whyloop import sandbox

    values = dict(os.environ)
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise bad_argument("var", f"var {item!r} is not of the form NAME=VALUE")
        values[name] = value
    if args.sandbox_state is not None:
        values.update(sandbox.suite_variables(args.sandbox_state))
    elif args.file == BUNDLED and "WHYLOOP_BACKEND_URL" not in values:
        values.update(sandbox.suite_variables())
    return values


def run_suite(args: argparse.Namespace) -> int:
    """``whyloop probe suite``: run, print (checks, or ``--json``), save; 1 when a check failed."""
    from whyloop import probes, sandbox

    check_save(args, "probes")  # bad names and a table already there fail before any traffic
    variables = _variables(args)
    df = probes.run_suite(sandbox.SUITE if args.file == BUNDLED else args.file, variables=variables)
    stored = save(args, [df.attrs["source"]], probes=df)
    print(suite_json(df, stored) if args.json else format_suite(df, stored))
    return 0 if bool(df["ok"].all()) else 1
