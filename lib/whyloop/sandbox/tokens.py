"""JWT issue and verification (HS256), shared by the auth service and the backend."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

__all__ = ["Claims", "TokenError", "bearer_token", "issue_token", "verify_token"]


class TokenError(Exception):
    """A token was refused; ``code`` is the JSON error code, ``detail`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Claims:
    """The claims the sandbox relies on, read from a verified token."""

    user_id: str
    username: str
    kind: str
    expires_at: int


def issue_token(
    *,
    secret: str,
    user_id: str,
    username: str,
    audience: str,
    issuer: str,
    ttl_s: int,
    kind: str = "access",
) -> str:
    """Sign a token of ``kind`` ("access" or "refresh") valid for ``ttl_s`` seconds."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": user_id,
        "username": username,
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "typ": kind,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def verify_token(
    token: str, *, secret: str, audience: str, issuer: str, kind: str = "access"
) -> Claims:
    """Verify signature, expiry, audience, issuer and kind; raise TokenError otherwise."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token_expired", "token has expired") from None
    except jwt.InvalidAudienceError:
        raise TokenError("invalid_token", "invalid audience") from None
    except jwt.InvalidIssuerError:
        raise TokenError("invalid_token", "invalid issuer") from None
    except jwt.InvalidSignatureError:
        raise TokenError("invalid_token", "signature verification failed") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("invalid_token", f"missing claim {exc.claim!r}") from None
    except jwt.InvalidAlgorithmError:
        raise TokenError("invalid_token", "algorithm not allowed") from None
    except jwt.PyJWTError:
        raise TokenError("invalid_token", "malformed token") from None
    if payload.get("typ") != kind:
        raise TokenError("invalid_token", f"expected a {kind} token")
    return Claims(
        user_id=str(payload["sub"]),
        username=str(payload.get("username", payload["sub"])),
        kind=kind,
        expires_at=int(payload["exp"]),
    )


def bearer_token(authorization: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
