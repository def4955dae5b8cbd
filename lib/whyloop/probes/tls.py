"""Read the facts of a server certificate from its DER bytes, and list what a verifier refuses.

Pure. ``ssl`` only gives a parsed certificate when it verified it; with
``--insecure`` (or over the HTTP probe's second, unverified connection after
verification failed) the probe still reports subject, issuer, validity and
whether the hostname matches, so this module reads the few X.509 fields it
needs from ``getpeercert(binary_form=True)`` itself (a minimal DER walk, no
dependency). Anything it cannot read yields ``{"error": ...}``, never an
exception.

:func:`certificate_problems` puts the verifier's one complaint and the
certificate's own facts together, so every problem is reported at once
(OpenSSL stops at the first: untrusted issuer, then host name, then dates).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

__all__ = ["cert_names", "certificate_problems", "describe_certificate", "hostname_matches"]

_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
}
_SAN_OID = "2.5.29.17"
_STRING_TAGS = {0x0C, 0x13, 0x14, 0x16, 0x1A, 0x1E}


class _DerError(ValueError):
    pass


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, start of value, end of value) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise _DerError("truncated")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise _DerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise _DerError("truncated value")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, vstart, vend = _tlv(data, start)
        out.append((tag, vstart, vend))
        start = vend
    return out


def _oid(raw: bytes) -> str:
    if not raw:
        raise _DerError("empty OID")
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:
        return raw.decode("utf-16-be", errors="replace")
    return raw.decode("utf-8" if tag == 0x0C else "latin-1", errors="replace")


def _name(data: bytes, start: int, end: int) -> str:
    parts = []
    for _tag, s, e in _children(data, start, end):  # SET OF
        for _t, ss, se in _children(data, s, e):  # SEQUENCE {OID, value}
            (_ot, os_, oe), (vt, vs, ve) = _children(data, ss, se)[:2]
            oid = _oid(data[os_:oe])
            value = _string(vt, data[vs:ve]) if vt in _STRING_TAGS else data[vs:ve].hex()
            parts.append(f"{_NAMES.get(oid, oid)}={value}")
    return ", ".join(parts)


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime: YYMMDDHHMMSS
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _san(data: bytes, start: int, end: int) -> list[str]:
    out = []
    for tag, s, e in _children(data, start, end):
        if tag == 0x82:  # dNSName
            out.append("DNS:" + data[s:e].decode("ascii", errors="replace"))
        elif tag == 0x87 and e - s in (4, 16):  # iPAddress
            out.append("IP:" + str(ipaddress.ip_address(data[s:e])))
    return out


def describe_certificate(der: bytes, host: str, now: datetime | None = None) -> dict[str, Any]:
    """Subject, issuer, validity, SANs, self-signed, days left and hostname match of ``der``.

    ``expired``/``not_yet_valid`` compare the dates with ``now`` (UTC), which
    defaults to the current time (the probe's clock); pass one in tests.
    """
    now = now or datetime.now(UTC)
    try:
        _t, cs, ce = _tlv(der, 0)
        _t, ts, te = _children(der, cs, ce)[0]
        fields = _children(der, ts, te)
        if fields and fields[0][0] == 0xA0:  # explicit version
            fields = fields[1:]
        issuer = _name(der, fields[2][1], fields[2][2])
        (nbt, nbs, nbe), (nat, nas, nae) = _children(der, fields[3][1], fields[3][2])[:2]
        subject = _name(der, fields[4][1], fields[4][2])
        not_before, not_after = _time(nbt, der[nbs:nbe]), _time(nat, der[nas:nae])
        san: list[str] = []
        for tag, s, e in fields[6:]:
            if tag != 0xA3:
                continue
            for _x, xs, xe in _children(der, *_children(der, s, e)[0][1:]):
                parts = _children(der, xs, xe)
                if _oid(der[parts[0][1] : parts[0][2]]) == _SAN_OID:
                    octets = parts[-1]
                    _q, qs, qe = _tlv(der, octets[1])
                    san = _san(der, qs, qe)
    except (_DerError, IndexError, ValueError, UnicodeDecodeError):
        return {"error": "unreadable certificate"}
    facts: dict[str, Any] = {
        "subject": subject,
        "issuer": issuer,
        "not_before": not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "san": san,
        "self_signed": subject == issuer,
        "days_left": (not_after - now).days,
        "expired": now > not_after,
        "not_yet_valid": now < not_before,
        #: the clock the dates were compared with (the probe's)
        "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    facts["hostname_match"] = hostname_matches(host, facts)
    return facts


def hostname_matches(host: str, cert: dict[str, Any]) -> bool:
    """True when ``host`` is one of the certificate's names (RFC 6125: SANs, one leading ``*``).

    The subject CN counts only when the certificate has no DNS names, as
    browsers no longer use it otherwise.
    """
    host = host.lower().rstrip(".").strip("[]")
    san = cert.get("san") or []
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(n.startswith("IP:") and ipaddress.ip_address(n[3:]) == address for n in san)
    names = [n[4:].lower() for n in san if n.startswith("DNS:")]
    if not names:
        cn = [p[3:] for p in str(cert.get("subject", "")).split(", ") if p.startswith("CN=")]
        names = [c.lower() for c in cn]
    return any(_dns_match(host, name) for name in names)


def _dns_match(host: str, pattern: str) -> bool:
    pattern = pattern.rstrip(".")
    if not pattern.startswith("*."):
        return host == pattern
    head, _, rest = host.partition(".")
    return bool(head) and rest == pattern[2:]


# OpenSSL's X509_V_ERR_* codes, as ssl.SSLCertVerificationError.verify_code carries them
_SELF_SIGNED = 18  # DEPTH_ZERO_SELF_SIGNED_CERT
_ROOT_NOT_TRUSTED = 19  # SELF_SIGNED_CERT_IN_CHAIN
_UNKNOWN_ISSUER = (
    2,
    20,
    21,
)  # UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), UNABLE_TO_VERIFY_LEAF_SIGNATURE
_NOT_YET_VALID, _EXPIRED = 9, 10
_NAME_MISMATCH = (62, 64)  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
#: the same complaints by their message, for observations recorded without the code
_BY_MESSAGE = (
    ("self-signed certificate in certificate chain", "root_not_trusted"),
    ("self signed certificate in certificate chain", "root_not_trusted"),
    ("self-signed certificate", "self_signed"),
    ("self signed certificate", "self_signed"),
    ("unable to get local issuer certificate", "unknown_issuer"),
    ("unable to get issuer certificate", "unknown_issuer"),
    ("unable to verify the first certificate", "unknown_issuer"),
    ("certificate has expired", "expired"),
    ("certificate is not yet valid", "not_yet_valid"),
    ("hostname mismatch", "name_mismatch"),
    ("ip address mismatch", "name_mismatch"),
)
_TRUST = {"self_signed", "root_not_trusted", "unknown_issuer"}


def _complaint(code: int | None, message: str | None) -> str | None:
    """The kind of the verifier's complaint: ``self_signed``, ``expired``... or ``other``."""
    by_code = {_SELF_SIGNED: "self_signed", _ROOT_NOT_TRUSTED: "root_not_trusted",
               _NOT_YET_VALID: "not_yet_valid", _EXPIRED: "expired"}  # fmt: skip
    by_code |= dict.fromkeys(_UNKNOWN_ISSUER, "unknown_issuer")
    by_code |= dict.fromkeys(_NAME_MISMATCH, "name_mismatch")
    if code in by_code:
        return by_code[code]
    text = (message or "").lower()
    found = next((kind for phrase, kind in _BY_MESSAGE if phrase in text), None)
    return found or ("other" if code is not None or message else None)


def cert_names(cert: dict[str, Any]) -> list[str]:
    """The names a certificate is valid for: its SANs, or ``CN=...`` when it has none."""
    names = list(cert.get("san") or [])
    if not names:
        names = [p for p in str(cert.get("subject", "")).split(", ") if p.startswith("CN=")]
    return names


def certificate_problems(
    cert: dict[str, Any],
    host: str,
    *,
    verify_code: int | None = None,
    verify_message: str | None = None,
) -> list[str]:
    """Every problem a verifying client has with ``cert``, one sentence each, with its facts.

    ``cert`` is :func:`describe_certificate`'s facts (empty when the
    certificate could not be read); ``verify_code``/``verify_message`` the
    verifier's complaint (:class:`ssl.SSLCertVerificationError`), None when the
    certificate was not verified (``--insecure``). OpenSSL checks the chain of
    trust, then the host name, then the dates, and reports only the first
    failure: a complaint about the name or the dates therefore means the issuer
    was trusted. Name and dates are read from the certificate itself; trust only
    a verifier can tell, so without one a self-signed certificate is reported
    as self-signed, with no claim about trust.
    """
    complaint = _complaint(verify_code, verify_message)
    readable = "subject" in cert and "error" not in cert
    same = f" (issuer = subject = {cert.get('subject')})" if readable else ""
    issuer = f" by {cert.get('issuer')}" if readable else ""
    out: list[str] = []
    if complaint == "self_signed":
        out.append(f"self-signed{same} and not trusted by this client")
    elif complaint == "root_not_trusted":
        out.append(f"issued{issuer} under a self-signed root this client does not trust")
    elif complaint == "unknown_issuer":
        out.append(f"issued{issuer}, a CA this client does not trust (unknown issuer)")
    elif complaint is None and readable and cert.get("self_signed"):
        out.append(f"self-signed{same}")
    if readable and cert.get("hostname_match") is False:
        names = ", ".join(cert_names(cert)) or "no names at all"
        out.append(f"not issued for {host}: it names {names}")
    clock = f", the probe's clock read {cert['checked_at']}" if cert.get("checked_at") else ""
    if readable and cert.get("expired"):
        out.append(f"expired: notAfter {cert.get('not_after')}{clock}")
    if readable and cert.get("not_yet_valid"):
        out.append(f"not yet valid: notBefore {cert.get('not_before')}{clock}")
    shown = {
        "self_signed": bool(cert.get("self_signed")),
        "name_mismatch": cert.get("hostname_match") is False,
        "expired": bool(cert.get("expired")),
        "not_yet_valid": bool(cert.get("not_yet_valid")),
    }
    if complaint == "other" or (complaint in shown and complaint not in _TRUST and not readable):
        out.append(f"refused by the verifier: {verify_message or f'code {verify_code}'}")
    elif readable and complaint in shown and not shown[complaint]:
        out.append(
            f"the verifier reported {verify_message!r}, which the server's certificate as read "
            "does not show (another certificate of the chain, or a different certificate "
            "served to the second connection)"
        )
    return out
