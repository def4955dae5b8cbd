"""Process entry point for one sandbox service: ``python -m whyloop.sandbox.serve SERVICE``.

``up()`` starts one such process per service, handing it an already bound
listening socket (``--fd``) so no other process can take the port in between,
and its :class:`~whyloop.sandbox.config.ServiceConfig` in ``WHYLOOP_SANDBOX_CONFIG``.
``--port`` binds 127.0.0.1 itself instead, for running a service by hand.

SIGTERM (or SIGINT) shuts the service down gracefully and the process exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys

import uvicorn
from starlette.applications import Starlette

from whyloop.errors import WhyloopError
from whyloop.sandbox.config import ServiceConfig

__all__ = ["SERVICES", "build_app", "main"]

SERVICES = ("auth", "backend")

#: seconds in-flight requests get to finish after SIGTERM before they are cancelled
GRACEFUL_SHUTDOWN_S = 2


def build_app(service: str, config: ServiceConfig) -> Starlette:
    """Return the ASGI app for ``service`` ("auth" or "backend")."""
    if service == "auth":
        from whyloop.sandbox.auth_app import create_auth_app

        return create_auth_app(config)
    from whyloop.sandbox.backend_app import create_backend_app

    return create_backend_app(config)


class _DropDenialNoise(logging.Filter):
    # uvicorn's sans-I/O WebSocket protocol reports a completed denial response
    # (HTTP 401/403 on the upgrade) as "returned without completing handshake".
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing handshake" not in record.getMessage()


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_DropDenialNoise())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def _exit_cleanly(_signum: int, _frame: object) -> None:
    # uvicorn restores this handler after its graceful shutdown and re-raises the
    # signal; exiting 0 here tells the parent the shutdown was clean.
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    """Run one service until SIGTERM; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m whyloop.sandbox.serve")
    parser.add_argument("service", choices=SERVICES)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int, help="an inherited, bound and listening socket")
    where.add_argument("--port", type=int, help="bind 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    _log_to_stderr()
    try:
        config = ServiceConfig.from_env()
        app = build_app(args.service, config)
    except WhyloopError as exc:
        print(f"whyloop sandbox {args.service}: {exc}", file=sys.stderr)
        return 2
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        sock = socket.create_server(("127.0.0.1", args.port))
    sock.setblocking(False)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            loop="asyncio",
            http="h11",
            ws="websockets-sansio",
            ws_max_size=config.ws_max_size,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    )
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
