"""How to probe the WebSocket protocols real servers speak: one exact command each (pure data).

Each :class:`Recipe` is the ``whyloop probe ws`` arguments a protocol needs:
the subprotocol to offer, whether the client speaks first, the messages of
its application handshake, the answer that means it worked and the messages
that mean the application refused. The README prints them, and the tests run
each one against a real server of that protocol.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

__all__ = ["RECIPES", "Recipe"]


@dataclass(frozen=True)
class Recipe:
    """One protocol's probe: its URL shape and the arguments after the URL, as shell text."""

    name: str
    #: what the protocol is, and what the probe checks
    what: str
    #: the URL, with HOST (and any id) to fill in
    url: str
    #: the arguments after the URL, quoted as a user would paste them
    args: str

    def argv(self, url: str | None = None) -> list[str]:
        """``probe ws URL ARGS...`` as a list (for ``whyloop.cli.main``)."""
        return ["probe", "ws", url or self.url, *shlex.split(self.args)]

    def command(self) -> str:
        """The shell command, as the README prints it."""
        return f"whyloop probe ws {shlex.quote(self.url)} {self.args}"


_INIT = """--send '{"type":"connection_init","payload":{"token":"{token}"}}'"""
_JUPYTER = (
    """--send '{"header":{"msg_id":"whyloop-1","msg_type":"kernel_info_request","""
    """"username":"whyloop","session":"whyloop","version":"5.3"},"parent_header":{},"""
    """"metadata":{},"content":{},"channel":"shell"}'"""
)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "graphql-transport-ws",
            "GraphQL over WebSocket (the graphql-ws library, Apollo, Strawberry, Hasura): "
            "connection_init with the token in its payload, then one operation; a refused "
            "init is closed with 4403",
            "ws://HOST/graphql",
            "--token-env TOKEN --auth none --subprotocol graphql-transport-ws --client-first "
            f"{_INIT} "
            """--send '{"id":"1","type":"subscribe","payload":{"query":"{ __typename }"}}' """
            "--expect-reply next",
        ),
        Recipe(
            "graphql-ws",
            "the legacy subscriptions-transport-ws protocol: connection_init answered by "
            "connection_ack, or connection_error when refused (to check a subscription too, "
            "add a --send with a start message of your schema and --expect-reply data)",
            "ws://HOST/graphql",
            "--token-env TOKEN --auth none --subprotocol graphql-ws --client-first "
            f"{_INIT} --expect-reply connection_ack --reject connection_error",
        ),
        Recipe(
            "socket.io",
            "Socket.IO v5 over Engine.IO v4: the server opens with a 0{...} packet, the "
            "client connects to the namespace with 40 and its auth; 44 is a refusal",
            "ws://HOST/socket.io/?EIO=4&transport=websocket",
            r"""--token-env TOKEN --auth none --expect-first 're:^0\{' """
            """--send '40{"token":"{token}"}' --expect-reply 're:^40' --reject 're:^44'""",
        ),
        Recipe(
            "jupyter",
            "a Jupyter server's kernel channels (start a kernel first: POST /api/kernels): "
            "the token as a bearer header, a kernel_info_request on the shell channel",
            "ws://HOST/api/kernels/KERNEL_ID/channels",
            f"--token-env JUPYTER_TOKEN --auth header --client-first {_JUPYTER} "
            "--expect-reply kernel_info_reply",
        ),
        Recipe(
            "echo",
            "a plain echo server: the client speaks first and expects its text back",
            "ws://HOST/",
            "--client-first --send hello --expect-reply 're:^hello$'",
        ),
    )
}
