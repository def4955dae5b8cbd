"""Redaction: the mask, secret-named fields, the text patterns, frames and Arrow tables."""

import json
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from whyloop.redact import (
    TRIGGER,
    is_secret_key,
    redact_frame,
    redact_headers,
    redact_json,
    redact_series,
    redact_table,
    redact_text,
    redact_value,
)

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (JWT, "eyJh"),
        ("0123456789abcdef", "0123"),
        ("hunter2hunt", "hu"),  # 11 characters: a quarter is 2
        ("correcthorse", "cor"),  # 12: 3
        ("hunter2", "h"),
        ("abc", ""),
        ("x", ""),
    ],
)
def test_a_secret_shows_at_most_4_characters_and_at_most_a_quarter(secret, shown):
    masked = redact_value(secret)
    assert masked == shown + "..."
    assert len(shown) <= min(4, len(secret) // 4)
    assert redact_value(masked) == masked  # masking twice changes nothing


def test_two_secrets_stay_apart_within_the_budget():
    assert redact_value("alpha-0123456789") != redact_value("bravo-0123456789")


#: (text, the secret in it, what stays of it)
SECRET_TEXTS = [
    (f"Authorization: Bearer {JWT}", JWT, "Authorization: Bearer eyJh..."),
    (f'{{"authorization": "Bearer {JWT}"}}', JWT, '{"authorization": "Bearer eyJh..."}'),
    (f"Sec-WebSocket-Protocol: jwt.{JWT}", JWT, "jwt.eyJh..."),
    (f"wss://api.example.com/ws?token={JWT}&v=2", JWT, "?token=eyJh...&v=2"),
    (f"refresh_token={JWT}", JWT, "refresh_token=eyJh..."),
    (f"got token {JWT} from auth", JWT, "got token eyJh... from auth"),
    ("Cookie: session=0123456789abcdef0123", "0123456789abcdef", "Cookie: sess..."),
    ("Set-Cookie: sid=Zq8wKx2Lm4Np; Path=/", "Zq8wKx2Lm4Np", "Set-Cookie: "),
    ("login failed, password=Tr0ub4dor&3x", "Tr0ub4dor", "password=Tr..."),
    ("(retry with password=hunter2hunter2)", "hunter2hunter2", "password=hun...)"),
    ("PASSWD: hunter2hunter2", "hunter2hunter2", "PASSWD: hun..."),
    ("pwd=Xy7Qw9Lp2Zk4", "Xy7Qw9Lp2Zk4", "pwd=Xy7..."),
    ("client_secret='s3cr3t-v4lue-x'", "s3cr3t-v4lue-x", "client_secret='s3c...'"),
    ('{"db": {"password": "Pa55w0rdPa55"}}', "Pa55w0rdPa55", '"password": "Pa5..."'),
    ("GET /cb?api_key=k9Q2m7Z4x1W8&x=1", "k9Q2m7Z4x1W8", "api_key=k9Q...&x=1"),
    ("GET /cb?apikey=k9Q2m7Z4x1W8", "k9Q2m7Z4x1W8", "apikey=k9Q..."),
    ("GET /cb?access_token=Qm9vZ2llV29vZ2ll", "Qm9vZ2llV29vZ2ll", "access_token=Qm9v..."),
    ("GET /maps?key=AIzaSyA-1234567890abcdefghijklmnopqrs", "1234567890abc", "key=AIza..."),
    ("db at postgres://app:Sup3rS3cretPw@db:5432/x", "Sup3rS3cretPw", "//app:Sup..."),
    ("Authorization: Basic YWxpY2U6d29uZGVybGFuZA==", "YWxpY2U6d29u", "Basic YWxp..."),
    ("sent basic YWxpY2U6d29uZGVybGFuZA== upstream", "YWxpY2U6d29u", "basic YWxp..."),
    ("key id AKIAIOSFODNN7EXAMPLE in use", "IOSFODNN7EXAMPLE", "AKIA..."),
    ("charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWD", "sk_l..."),
    ("push ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "A1b2C3d4E5f6", "ghp_..."),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", "MIIEvQ", ""),
]


@pytest.mark.parametrize(("text", "secret", "kept"), SECRET_TEXTS)
def test_secrets_in_text_are_masked_and_their_context_kept(text, secret, kept):
    out = redact_text(text)
    assert secret not in out, out
    assert kept in out, out
    assert redact_text(out) == out


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/threads 200 in 12 ms (token bucket ok)",
        "user session refreshed id=123",
        "token rejected: invalid audience",
        "Basic authentication failed",
        'WWW-Authenticate: Bearer error="invalid_token"',
        "3 passed, 2 failed in 1.2s",
        "session_id=abc123 token_type=Bearer expires_in=3600 token_count=12",
        '{"event": "token_rejected", "auth": "header", "allow_credentials": true}',
        "connect to https://db.example.com:5432/app",
        "GET https://h/health?access_token=jC33...: ok",  # masked already
        "Session: 30546173_4261722401 initialized by client WindowsUpdateAgent.",
        "Follower sid: 3 : info",
        "Token: Token { kind: ContainerToken, service: 172.22.149.145:28345 }",
        "token: expired",
        "",
    ],
)
def test_text_without_secrets_is_untouched(text):
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "db_password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "aws_secret_access_key",
        "token",
        "access_token",
        "accessToken",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "APIKEY",
        "authorization",
        "Proxy-Authorization",
        "cookie",
        "Set-Cookie",
        "session",
        "user_session",
        "JSESSIONID",
        "PHPSESSID",
        "connect.sid",
        "private_key",
        "privateKey",
        "credentials",
        "basic_auth",
        "jsonPayload.auth.password",
        "httpRequest.headers.Cookie",
        "credentials.username",
        "csrftoken",
    ],
)
def test_secret_names_in_any_case_and_nesting(name):
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "token_count",
        "token_type",
        "session_id",
        "sessionId",
        "sessionid",  # ZooKeeper's and Django's; in a Cookie header it is masked with the header
        "session.id",
        "credentials.type",
        "secret_name",
        "token_expires_at",
        "--token-env",
        "token_field",
        "private_key_id",
        "Access-Control-Allow-Credentials",
        "has_token",
        "auth",
        "auth_method",
        "author",
        "passed",
        "WWW-Authenticate",
        "Sec-WebSocket-Protocol",
        "httpRequest.requestUrl",
        "trace_id",
        "message",
    ],
)
def test_names_that_only_describe_a_secret_are_not_secret(name):
    assert not is_secret_key(name)


def test_a_number_under_a_plural_name_is_a_count():
    assert not is_secret_key("usage.prompt_tokens", numeric=True)
    assert is_secret_key("cookies") and is_secret_key("pin_password", numeric=True)


def test_json_is_masked_by_field_name_at_any_depth():
    record = {
        "user": "alice",
        "auth": {"method": "header", "password": "Pa55w0rdPa55"},
        "credentials": {"user": "bob", "key": "K3yK3yK3yK3y"},
        "session": {"id": "s-1", "value": "V4lueV4lueV4"},
        "headers": [{"Cookie": "a=b1234567890"}, {"Accept": "*/*"}],
        "pin_password": 987654321,
        "token_count": 12,
        "has_token": True,
        "note": f"with Bearer {JWT}",
    }
    out = redact_json(record)
    flat = json.dumps(out)
    for secret in ("Pa55w0rdPa55", "K3yK3yK3yK3y", "V4lueV4lueV4", "b1234567890", "987654321", JWT):
        assert secret not in flat
    assert out["user"] == "alice" and out["auth"]["method"] == "header"
    assert out["credentials"]["user"] == "..." and out["session"]["id"] == "s-1"
    assert out["token_count"] == 12 and out["has_token"] is True
    assert out["pin_password"] == "98..."


def test_json_text_is_redacted_as_json():
    text = json.dumps({"credentials": {"user": "bob", "pw": "x"}, "n": 1})
    out = redact_text(text)
    assert json.loads(out) == {"credentials": {"user": "...", "pw": "..."}, "n": 1}


def test_headers_keep_the_scheme_and_mask_the_credential():
    headers = {
        "Authorization": f"Bearer {JWT}",
        "Cookie": "a=b",
        "X-Session-Token": "0123456789abcdef",
        "Sec-WebSocket-Protocol": f"jwt.{JWT}",
        "Host": "x",
    }
    out = redact_headers(headers)
    assert out["Authorization"] == "Bearer eyJh..."
    assert out["Cookie"] == "..."
    assert out["X-Session-Token"] == "0123..."
    assert out["Sec-WebSocket-Protocol"] == "jwt.eyJh..."
    assert out["Host"] == "x"


@pytest.mark.parametrize(("text", "secret", "kept"), SECRET_TEXTS)
def test_the_cheap_trigger_flags_every_kind_in_python_and_in_arrow(text, secret, kept):
    """Text the trigger passes over is never redacted: it must flag every kind."""
    assert re.search(TRIGGER, text)
    assert pc.match_substring_regex(pa.array([text]), TRIGGER)[0].as_py()


def test_series_and_frame_redact_only_rows_with_secrets():
    s = pd.Series(["fine", f"Authorization: Bearer {JWT}", None])
    out = redact_series(s)
    assert out[0] == "fine" and JWT not in out[1] and pd.isna(out[2])
    df = pd.DataFrame({"message": s, "n": [1, 2, 3], "api_key": ["k" * 16, None, ""]})
    redact_frame(df)
    assert JWT not in df["message"][1]
    assert df["api_key"].tolist()[0] == "kkkk..." and df["api_key"].tolist()[2] == ""


def test_table_masks_secret_columns_whole_and_keeps_counts_and_flags():
    table = pa.table(
        {
            "message": ["ok", "fine"],
            "jsonPayload.auth.password": ["Pa55w0rdPa55", None],
            "httpRequest.headers.Cookie": ["sid=0123456789", "x"],
            "pin_password": pa.array([987654321, 12], pa.int64()),
            "usage.prompt_tokens": pa.array([100, 200], pa.int64()),
            "has_token": [True, False],
        }
    )
    out = redact_table(table).to_pydict()
    assert out["jsonPayload.auth.password"] == ["Pa5...", None]
    assert out["httpRequest.headers.Cookie"] == ["sid...", "..."]
    assert out["pin_password"] == ["98...", "..."]
    assert out["usage.prompt_tokens"] == [100, 200] and out["has_token"] == [True, False]
    assert out["message"] == ["ok", "fine"]


def test_ingested_results_and_logs_are_redacted(tmp_path):
    import whyloop

    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuite name="s" tests="1"><testcase classname="c" name="t">'
        '<properties><property name="db_password" value="Pa55w0rdPa55"/></properties>'
        f'<failure message="401 for Authorization: Bearer {JWT}">ws jwt.{JWT}</failure>'
        f"<system-out>Cookie: sid=0123456789abcdef0123</system-out></testcase></testsuite>"
    )
    tests = whyloop.read_tests(xml)
    flat = tests.astype(str).to_string()
    assert JWT not in flat and "0123456789abcdef0123" not in flat and "Pa55w0rd" not in flat
    assert json.loads(tests["properties"][0]) == {"db_password": "Pa5..."}
    log = tmp_path / "app.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-24T10:00:00Z", "severity": "INFO", '
        f'"message": "upgrade with Bearer {JWT}", "httpRequest": {{"requestUrl": "/ws?token={JWT}"}}, '
        '"jsonPayload": {"auth": {"password": "Pa55w0rdPa55"}, "session_id": "s-42"}}\n'
    )
    logs = whyloop.read_logs(log)
    assert (
        JWT not in logs.astype(str).to_string() and "Pa55w0rd" not in logs.astype(str).to_string()
    )
    assert logs["message"][0] == "upgrade with Bearer eyJh..."
    assert logs["jsonPayload.auth.password"][0] == "Pa5..."
    assert logs["jsonPayload.session_id"][0] == "s-42"


def test_redact_table_scans_a_repeated_chunk_once_and_keeps_clean_chunks():
    from whyloop.ingest.logs.frame import REPEAT_ROWS, constant

    secret = f"Authorization: Bearer {JWT}"
    clean = pa.chunked_array([pa.array(["ok", "fine"], pa.large_string())] * 2)
    table = pa.table({"a": constant(2 * REPEAT_ROWS + 2, secret)[:4], "b": clean})
    out = redact_table(table)
    assert out.column("a").to_pylist() == [redact_text(secret)] * 4
    assert out.column("b").chunk(0).buffers()[2].address == clean.chunk(0).buffers()[2].address
