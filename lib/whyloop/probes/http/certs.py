"""The TLS part of an HTTP probe's result: the refused-certificate diagnosis, detail, evidence.

Pure. When the verified handshake refused the certificate, :mod:`.probe`
opens a second, unverified connection to read it (``obs.tls`` then has
``read_unverified``); :func:`whyloop.probes.tls.certificate_problems` puts
the verifier's one complaint and the certificate's own facts together, and
this module words them and cites where each fact came from.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from whyloop.probes.http.observations import HttpObservation
from whyloop.probes.tls import cert_names, certificate_problems

__all__ = ["refused_certificate", "tls_detail", "tls_evidence"]


def refused_certificate(obs: HttpObservation, where: str) -> str:
    """Every problem of a certificate the verifier refused, and where the facts come from."""
    host = urlsplit(obs.url).hostname or ""
    problems = certificate_problems(
        obs.tls, host, verify_code=obs.verify_code, verify_message=obs.verify_message or obs.error
    )
    if obs.tls.get("read_unverified") and "error" not in obs.tls:
        source = " (the certificate read over a second, unverified connection)"
    else:
        why = obs.tls.get("inspect_error") or obs.tls.get("error") or "not read"
        source = f" (the certificate itself could not be inspected: {why})"
    listed = "; ".join(problems) or (obs.verify_message or obs.error or "refused")
    return (
        f"TLS handshake with {where} refused the server's certificate: {listed}{source}; "
        "fix the certificate, or use --insecure to look past it"
    )


def tls_detail(obs: HttpObservation) -> dict[str, Any]:
    """The TLS stage's detail: the facts, plus the verifier's complaint and every problem."""
    detail = dict(obs.tls)
    if obs.verify_message is not None:
        detail["verify_error"] = obs.verify_message
        detail["verify_code"] = obs.verify_code
    if obs.verify_message is not None or (obs.insecure and "subject" in obs.tls):
        # a verified handshake that passed has no problems to list
        host = urlsplit(obs.url).hostname or ""
        detail["problems"] = certificate_problems(
            obs.tls, host, verify_code=obs.verify_code, verify_message=obs.verify_message
        )
    return detail


def tls_evidence(obs: HttpObservation) -> list[str]:
    """The certificate facts a TLS diagnosis rests on, and problems --insecure looked past."""
    out = []
    cert = obs.tls
    if obs.verify_message is not None:
        out.append(f"verifier: {obs.verify_message} (OpenSSL code {obs.verify_code})")
    if cert.get("subject") and (obs.verify_message is not None or obs.insecure):
        out.append(
            f"certificate (read without verification): subject {cert['subject']}; issuer "
            f"{cert.get('issuer')}; notBefore {cert.get('not_before')}; notAfter "
            f"{cert.get('not_after')}; names {', '.join(cert_names(cert)) or 'none'}"
        )
    if obs.insecure and cert.get("subject"):
        host = urlsplit(obs.url).hostname or ""
        problems = certificate_problems(cert, host)
        if problems:
            out.append("not verified (--insecure); the certificate is " + "; ".join(problems))
    days = cert.get("days_left")
    if isinstance(days, (int, float)) and 0 <= days < 14:
        out.append(f"TLS certificate expires in {days:.0f} days ({cert.get('not_after')})")
    return out
