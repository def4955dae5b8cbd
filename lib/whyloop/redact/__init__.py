"""Secret redaction (pure): secret-named fields masked whole, and secrets found in text.

Used wherever whyloop prints or saves something that might carry a secret:
every ingest path, probe results, findings, the CLI's output, the sandbox's
logs. Three rules, and one mask for all of them (:mod:`.names`):

* **The mask** (:func:`redact_value`): a secret keeps at most 4 characters,
  and never more than a quarter of its length, then ``...``: a JWT shows
  ``eyJh...``, a 12-character password 3 characters, a 3-character one none
  (``...``). Two secrets can be told apart only within that budget. A value
  already masked is left as it is, so redacting twice changes nothing. An
  auth scheme in front of a credential stays (``Bearer eyJh...``).
* **Fields** (:func:`is_secret_key`): a key, column or header whose name says
  secret is masked whole, as Sentry's data scrubber does: its name, in any
  case and spelling (``apiKey``, ``X-Api-Key`` and ``api_key`` alike),
  contains ``password``, ``passwd``, ``passphrase``, ``pwd``, ``secret``,
  ``token``, ``api_key``/``apikey``, ``authorization``, ``cookie``,
  ``session``/``sessid``, ``private_key``, ``credential``, ``csrf`` or
  ``xsrf``, or is ``sid``, ``jwt``, ``jsessionid``, ``basic_auth``,
  ``proxy_auth`` or ``http_auth``. Nesting counts: ``jsonPayload.auth.password``,
  ``httpRequest.headers.Cookie`` and everything under ``credentials`` are
  secret. A name that only *describes* a secret is not one: the secret word
  followed by ``_id``, ``_count``, ``_type``, ``_name``, ``_expires_at``,
  ``_ttl``, ``_url``, ``_env``, ``_field``, ... (``session_id``,
  ``sessionId``, ``token_count``, ``token_type``; such a leaf under a secret
  parent too: ``session.id``), or preceded by ``has_``, ``is_``, ``allow_``,
  ``max_``, ... (``Access-Control-Allow-Credentials``, ``max_tokens``), and a
  number under a plural name (``prompt_tokens: 12``). Bare ``auth`` and
  ``pass`` are not secret names (they name a method or count passes, as in
  the sandbox's own ``"auth": "header"``). Booleans, nulls and times are
  never masked; numbers under a secret name are.
* **Text** (:func:`redact_text`, :mod:`.text`): ``Authorization`` and
  ``Cookie``/``Set-Cookie`` header lines (the cookie's whole value),
  ``Bearer`` credentials, ``Basic`` ones (base64 of ``user:password``),
  ``jwt.`` subprotocols, JWTs, the password in URL userinfo
  (``https://user:pass@host``: the user is kept), AWS access key ids
  (``AKIA``/``ASIA``), Stripe (``sk_live_``, ``rk_test_``, ``whsec_``),
  GitHub (``ghp_``, ``github_pat_``), GitLab, Slack and Google API keys, PEM
  private keys, ``key=``/``sig=`` query parameters, and ``name=value``,
  ``name: value`` and ``"name": "value"`` pairs whose name is secret by the
  field rule and ends with the secret word (``password=``,
  ``?access_token=``, ``"api_key":``, ``PWD=``; not ``test_session_persistence:``).
  After a bare label and a colon, a session or sid is an id ("Session:
  30546173_42 initialized") and a token or secret only a value that looks
  made (digits or symbols, or 16 characters): "token: expired" stays. Text
  that is a JSON object or array is redacted as JSON (the field rule, at any
  depth).

Frames and Arrow tables (:func:`redact_frame`, :func:`redact_table`,
:mod:`.tables`) get both: secret-named columns are masked whole and every
text column is scanned. The scan first runs one cheap RE2 test
(:data:`TRIGGER`, which every pattern implies) over a chunk's bytes, so clean
data costs milliseconds per million rows.
"""

from __future__ import annotations

from whyloop.redact.names import MASK, is_secret_key, redact_value
from whyloop.redact.tables import redact_frame, redact_series, redact_table
from whyloop.redact.text import (
    SECRET_HEADERS,
    TRIGGER,
    redact_headers,
    redact_json,
    redact_text,
)

__all__ = [
    "MASK",
    "SECRET_HEADERS",
    "TRIGGER",
    "is_secret_key",
    "redact_frame",
    "redact_headers",
    "redact_json",
    "redact_series",
    "redact_table",
    "redact_text",
    "redact_value",
]
