import pandas as pd
import pytest

from whyloop.redact import redact_frame, redact_headers, redact_series, redact_text

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldA"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {JWT}",
        f'{{"authorization": "Bearer {JWT}"}}',
        f"Sec-WebSocket-Protocol: jwt.{JWT}",
        f"wss://api.example.com/ws?token={JWT}&v=2",
        f"refresh_token={JWT}",
        f"got token {JWT} from auth",
        "Cookie: session=0123456789abcdef0123",
    ],
)
def test_secrets_keep_8_characters_then_dots(text):
    out = redact_text(text)
    assert JWT not in out and "0123456789abcdef0123" not in out
    assert "..." in out


def test_clean_text_is_untouched_and_redaction_is_idempotent():
    clean = "GET /api/threads 200 in 12 ms (token bucket ok)"
    assert redact_text(clean) == clean
    once = redact_text(f"Bearer {JWT}")
    assert redact_text(once) == once == "Bearer eyJhbGci..."


def test_headers_and_subprotocols():
    headers = {
        "Authorization": f"Bearer {JWT}",
        "Cookie": "a=b",
        "Sec-WebSocket-Protocol": f"jwt.{JWT}",
        "Host": "x",
    }
    out = redact_headers(headers)
    assert out["Authorization"] == "Bearer e..."
    assert out["Sec-WebSocket-Protocol"] == "jwt.eyJhbGci..."
    assert out["Host"] == "x"


def test_series_and_frame_redact_only_rows_with_secrets():
    s = pd.Series(["fine", f"Authorization: Bearer {JWT}", None])
    out = redact_series(s)
    assert out[0] == "fine" and JWT not in out[1] and pd.isna(out[2])
    df = pd.DataFrame({"message": s, "n": [1, 2, 3]})
    assert JWT not in redact_frame(df)["message"][1]


def test_ingested_results_and_logs_are_redacted(tmp_path):
    import whyloop

    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuite name="s" tests="1"><testcase classname="c" name="t">'
        f'<failure message="401 for Authorization: Bearer {JWT}">ws jwt.{JWT}</failure>'
        f"<system-out>Cookie: sid=0123456789abcdef0123</system-out></testcase></testsuite>"
    )
    tests = whyloop.read_tests(xml)
    flat = tests.astype(str).to_string()
    assert JWT not in flat and "0123456789abcdef0123" not in flat
    log = tmp_path / "app.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-24T10:00:00Z", "severity": "INFO", '
        f'"message": "upgrade with Bearer {JWT}", "httpRequest": {{"requestUrl": "/ws?token={JWT}"}}}}\n'
    )
    logs = whyloop.read_logs(log)
    assert JWT not in logs.astype(str).to_string()
    assert logs["message"][0] == "upgrade with Bearer eyJhbGci..."


def test_redact_table_scans_a_repeated_chunk_once_and_keeps_clean_chunks():
    import pyarrow as pa

    from whyloop.ingest.logs.frame import REPEAT_ROWS, constant
    from whyloop.redact import redact_table

    secret = f"Authorization: Bearer {JWT}"
    clean = pa.chunked_array([pa.array(["ok", "fine"], pa.large_string())] * 2)
    table = pa.table({"a": constant(2 * REPEAT_ROWS + 2, secret)[:4], "b": clean})
    out = redact_table(table)
    assert out.column("a").to_pylist() == [redact_text(secret)] * 4
    assert out.column("b").chunk(0).buffers()[2].address == clean.chunk(0).buffers()[2].address
