import pandas as pd
import pytest

from whyloop.analyze.signatures import MaskRule, failure_text, mask, signatures
from whyloop.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connect to 10.0.0.1:5432 failed after 3.5s", "connect to <ip> failed after <n>s"),
        (
            "GET /api/threads/7f3a9c1e-1234-4abc-8def-0123456789ab/messages",
            "GET /api/threads/<uuid>/messages",
        ),
        ("at 2026-11-24T05:48:08.123Z", "at <ts>"),
        ("object at 0x7f3a9c1e2d40", "object at <hex>"),
        ("File /home/ci/app/x.py line 12", "File <path> line <n>"),
        ("token eyJhbGciOi.eyJzdWIiOiJ4.abc rejected", "token <jwt> rejected"),
        ("ws://localhost:8123/ws closed", "ws://localhost:<port>/ws closed"),
    ],
)
def test_mask_hides_what_varies(text, expected):
    assert mask(text) == expected


def test_mask_keeps_status_and_close_codes_apart():
    assert mask("assert 401 == 200") != mask("assert 500 == 200")
    assert "1008" in mask("closed with code 1008 after 12 messages")


def test_failure_text_falls_back_to_pytest_E_line():
    details = "def test():\n>   assert x\nE   AssertionError: boom 12\n\nt.py:3: AssertionError"
    assert failure_text("AssertionError", "", details) == "AssertionError: boom 12"
    assert failure_text("ValueError", "ValueError: bad", "") == "ValueError: bad"


def _frame(rows):
    base = {"outcome": "failed", "failure_type": "", "message": "", "details": ""}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_same_cause_same_signature_across_tests():
    df = _frame(
        [
            {
                "failure_type": "TimeoutError",
                "message": "no welcome within 3.0 s from 127.0.0.1:4101",
            },
            {
                "failure_type": "TimeoutError",
                "message": "no welcome within 5.0 s from 127.0.0.1:4999",
            },
            {"failure_type": "AssertionError", "message": "assert 401 == 200"},
            {"outcome": "passed"},
        ]
    )
    sig, text = signatures(df)
    assert sig[0] == sig[1] != sig[2]
    assert sig[3] == "" and text[3] == ""
    assert text[0] == "TimeoutError: no welcome within <n> s from <ip>"


def test_user_rules_come_first_and_bad_rule_is_config_error():
    df = _frame([{"message": "tenant acme failed"}, {"message": "tenant globex failed"}])
    sig, _ = signatures(df)
    assert sig[0] != sig[1]
    sig, text = signatures(df, [MaskRule(r"tenant \w+", "tenant <tenant>")])
    assert sig[0] == sig[1] and text[0] == "tenant <tenant> failed"
    with pytest.raises(ConfigError, match="fingerprint rule"):
        signatures(df, [{"pattern": "("}])
