"""Settings shared by the sandbox services, passed from ``up()`` to each child process.

The parent builds one :class:`ServiceConfig` and hands it to every service in
the ``WHYLOOP_SANDBOX_CONFIG`` environment variable (JSON), so the JWT secret
never appears on a command line.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whyloop.errors import ConfigError
from whyloop.sandbox.faults import Fault, parse_faults

__all__ = ["AUTH_REVISION", "BACKEND_REVISION", "CONFIG_ENV", "ServiceConfig"]

CONFIG_ENV = "WHYLOOP_SANDBOX_CONFIG"

#: Cloud Run style revision names, reported by /health and in every log line.
BACKEND_REVISION = "sandbox-backend-00035-abc"
AUTH_REVISION = "sandbox-auth-00012-xyz"


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """Everything a sandbox service needs to run; every field has a documented default."""

    #: where databases, logs and the files root live
    state_dir: Path
    #: HS256 secret shared by auth (signing) and backend (verifying)
    jwt_secret: str = field(repr=False)
    #: the audience auth puts in tokens and the backend expects
    audience: str = "whyloop-sandbox"
    issuer: str = "whyloop-sandbox-auth"
    faults: tuple[Fault, ...] = ()
    #: per-user budget on the backend's /api routes: ``rate_limit`` requests per ``rate_window_s``
    rate_limit: int = 40
    rate_window_s: float = 10.0
    access_ttl_s: int = 900
    refresh_ttl_s: int = 86_400
    #: share of message posts that fail under flaky-messages, and the RNG seed
    flaky_rate: float = 0.3
    flaky_seed: int = 20_240_611
    #: how long one agent run takes under slow-agent
    slow_agent_s: float = 15.0
    #: pause between streamed agent events in normal operation
    step_delay_s: float = 0.02
    #: largest HTTP body (413 above it) and WebSocket frame (close 1009 above it)
    max_body: int = 64 * 1024
    ws_max_size: int = 64 * 1024
    #: how long a write waits for the SQLite lock before "database is locked"
    db_busy_timeout_s: float = 0.5

    def has(self, fault: Fault) -> bool:
        """True when ``fault`` is switched on."""
        return fault in self.faults

    def to_json(self) -> str:
        """Serialise for the child's environment (includes the secret: never log it)."""
        data: dict[str, Any] = asdict(self)
        data["state_dir"] = str(self.state_dir)
        data["faults"] = [f.value for f in self.faults]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        """Inverse of :meth:`to_json`; raises ConfigError on anything unreadable."""
        try:
            data = json.loads(text)
            data["state_dir"] = Path(data["state_dir"])
            data["faults"] = parse_faults(data.get("faults", ()))
            return cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"invalid sandbox service config: {exc}") from None

    @classmethod
    def from_env(cls) -> ServiceConfig:
        """Read the config the parent put in ``WHYLOOP_SANDBOX_CONFIG``."""
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise ConfigError(f"{CONFIG_ENV} is not set; start services with whyloop.sandbox.up()")
        return cls.from_json(text)
