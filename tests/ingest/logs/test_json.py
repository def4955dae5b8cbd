"""JSON log parsing: Cloud Run / Cloud Logging, exports, journald, Docker, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.support import FIXTURES
from whyloop.errors import IngestError
from whyloop.ingest.logs.frame import (
    FRAME_COLUMNS,
    LEVEL_ALIASES,
    LogFormat,
    normalise_level,
    to_frame,
)
from whyloop.ingest.logs.json import MAX_LISTED, detect_json_shape, parse_json_logs
from whyloop.ingest.logs.read import read_logs
from whyloop.schema import LOG_COLUMNS, LOG_LEVELS

LOGS = FIXTURES / "logs"


def parse(path: Path, **kw) -> tuple[pd.DataFrame, list[str], LogFormat]:
    result = parse_json_logs(path, name=path.name, **kw)
    return to_frame(result.table), result.warnings, result.format


def assert_frame_shape(df: pd.DataFrame) -> None:
    assert tuple(df.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    assert tuple(df.columns[: len(LOG_COLUMNS)]) == LOG_COLUMNS
    assert isinstance(df["timestamp"].dtype, pd.DatetimeTZDtype)
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert df["line"].dtype == "int64"
    assert set(df["level"].dropna()) <= set(LOG_LEVELS)


def test_cloud_run_lines_fill_canonical_columns_and_keep_every_field():
    df, warnings, fmt = parse(LOGS / "cloudrun.jsonl")
    assert fmt is LogFormat.CLOUD_LOGGING
    assert warnings == []
    assert_frame_shape(df)
    assert list(df["line"]) == [1, 2, 3, 4, 5, 6]
    assert list(df["level"].fillna("-")) == ["INFO", "-", "ERROR", "WARNING", "CRITICAL", "ERROR"]
    assert df["level_raw"][1] == "DEFAULT"  # DEFAULT: no severity assigned, so no level
    assert list(df["service"]) == ["api", "api", "api", "worker", "worker", "api"]
    assert df["revision"][0] == "api-00042-xyz"
    # message: jsonPayload.message, jsonPayload.msg, textPayload, or the request line
    assert df["message"][0] == "GET 200 https://api-x.a.run.app/items/7"
    assert df["message"][1] == "cache miss"
    assert df["message"][2].startswith("Traceback (most recent call last):\n")
    assert df["message"][2].endswith("ValueError: bad input")  # trailing newline trimmed
    assert df["message"][3] == "upstream slow"
    assert df["trace_id"][0] == "4bf92f3577b34da6a3ce929d0e0e4736"  # projects/demo/traces/ID -> ID
    assert df["trace_id"][4] == "aaaabbbbccccdddd"  # logging.googleapis.com/trace
    assert df["request_id"][3] == "req-9"
    assert df["timestamp"][0] == pd.Timestamp("2026-11-24T10:00:00.123456Z")
    assert df["timestamp"][2] == pd.Timestamp("2026-11-24T10:00:02.5Z")
    # nothing dropped: nested fields kept under dotted names, typed
    for col in (
        "insertId",
        "httpRequest.status",
        "httpRequest.latency",
        "httpRequest.userAgent",
        "resource.labels.location",
        "labels.instanceId",
        "jsonPayload.user_id",
        "jsonPayload.latency_ms",
        "logName",
    ):
        assert col in df.columns, col
    assert df["httpRequest.status"].dtype == "Int64"
    assert list(df["httpRequest.status"].dropna()) == [200, 503]
    assert df["jsonPayload.user_id"][1] == "u-17"


def test_cloud_logging_export_array_is_one_json_document():
    df, _warnings, fmt = parse(LOGS / "cloud_export.json")
    assert fmt is LogFormat.CLOUD_LOGGING
    assert_frame_shape(df)
    assert list(df["line"]) == [1, 2, 3]  # the element number in the array
    assert list(df["level"]) == ["NOTICE", "ERROR", "WARNING"]
    assert list(df["revision"]) == ["api-00001", "api-00001", "api-00002"]
    assert df["message"][2] == "Ready condition status changed to False"  # audit log status
    assert df["protoPayload.methodName"][2].endswith("ReplaceService")
    assert isinstance(df["receiveTimestamp"].dtype, pd.DatetimeTZDtype)


def test_journald_priorities_units_and_byte_array_messages():
    df, _warnings, fmt = parse(LOGS / "journald.jsonl")
    assert fmt is LogFormat.JOURNALD
    assert_frame_shape(df)
    assert list(df["level"]) == ["INFO", "ERROR", "WARNING", "CRITICAL"]  # syslog 6, 3, 4, 2
    assert list(df["service"]) == ["api.service", "api.service", "kernel", "db.service"]
    assert df["timestamp"][0] == pd.Timestamp("2026-11-24T10:00:00Z")  # µs since the epoch
    assert df["timestamp"][1] == pd.Timestamp("2026-11-24T10:00:01.5Z")
    assert df["message"][2] == "oom: \ufffdkill"  # not UTF-8: an array of bytes, decoded
    assert df["_HOSTNAME"].tolist() == ["vm-1"] * 4


def test_docker_json_file_lifts_json_logs_and_joins_split_lines():
    df, warnings, fmt = parse(LOGS / "docker.log")
    assert fmt is LogFormat.DOCKER
    assert warnings == []
    assert_frame_shape(df)
    assert list(df["line"]) == [1, 2, 3, 5]
    assert df["message"][0] == "starting server"
    # the inner JSON's level, message, time and trace win over the wrapper's
    assert df["level"][1] == "ERROR"
    assert df["message"][1] == "payment failed"
    assert df["trace_id"][1] == "abc123"
    assert df["timestamp"][1] == pd.Timestamp("2026-11-24T10:00:01.5Z")
    assert df["order"][1] == 42
    assert df["stream"][1] == "stderr"
    assert df["message"][2] == "a very long line, first piece and its second piece"


def test_corrupt_line_is_reported_with_file_and_line_and_the_rest_kept():
    df, warnings, _fmt = parse(LOGS / "corrupt.jsonl")
    assert warnings[0].startswith("corrupt.jsonl:3: invalid JSON (")
    assert warnings[0].endswith("); line skipped")
    assert warnings[1] == "corrupt.jsonl:5: not JSON; kept as a text record"
    assert list(df["line"]) == [1, 2, 4, 5, 6]
    assert list(df["message"]) == [
        "one",
        "two",
        "four",
        "panic: runtime error: index out of range [3] with length 3",
        "six",
    ]
    assert list(df["level"].fillna("-")) == ["INFO", "INFO", "WARNING", "-", "ERROR"]


def test_many_bad_lines_are_counted_not_all_listed(tmp_path):
    lines = [f'{{"msg": "ok {i}", "level": "info"}}' for i in range(5)]
    lines += [f'{{"msg": broken {i}' for i in range(MAX_LISTED + 7)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    df, warnings, _ = parse(path)
    assert len(df) == 5
    assert len(warnings) == MAX_LISTED + 1
    assert warnings[0].startswith("many.jsonl:6: invalid JSON")
    assert warnings[-1] == "many.jsonl: ... and 7 more bad lines"


def test_field_whose_type_changes_after_the_sample_does_not_crash(tmp_path):
    # DuckDB infers types from the first 20,480 lines; the last line disagrees.
    path = tmp_path / "drift.jsonl"
    with path.open("w") as fh:
        for i in range(25_000):
            fh.write(json.dumps({"msg": f"m{i}", "ctx": {"user": f"u{i}"}, "code": i}) + "\n")
        fh.write(json.dumps({"msg": "last", "ctx": "plain text now", "code": "E42"}) + "\n")
    df, _warnings, _ = parse(path)
    assert len(df) == 25_001
    assert df["message"].iloc[-1] == "last"
    assert df["line"].iloc[-1] == 25_001
    assert df["ctx"].iloc[-1] == "plain text now"
    assert json.loads(df["ctx"].iloc[0]) == {"user": "u0"}  # kept as JSON text
    assert str(df["code"].iloc[-1]) == "E42"


def test_blank_lines_keep_line_numbers_right(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text('{"msg": "a"}\n\n   \n{"msg": "b"}\n\n{"msg": "c"}')
    df, _, _ = parse(path)
    assert list(df["line"]) == [1, 4, 6]
    assert list(df["message"]) == ["a", "b", "c"]


def test_generic_json_keys_numeric_levels_and_epoch_times():
    data = (
        b'{"level": 30, "time": 1795514400000, "msg": "pino info", "pid": 7}\n'
        b'{"level": 50, "time": 1795514401000, "msg": "pino error"}\n'
        b'{"levelname": "WARNING", "asctime": "2026-11-24 10:00:02,250", "message": "py", "name": "a.b"}\n'
        b'{"severity": "E", "ts": 1795514403.5, "event": "structlog-ish", "service": "svc"}\n'
    )
    result = parse_json_logs(data, name="mixed.jsonl")
    df = to_frame(result.table)
    assert result.format is LogFormat.JSON
    assert list(df["level"]) == ["INFO", "ERROR", "WARNING", "ERROR"]
    assert list(df["message"]) == ["pino info", "pino error", "py", "structlog-ish"]
    assert df["timestamp"].tolist() == [
        pd.Timestamp("2026-11-24T10:00:00Z"),
        pd.Timestamp("2026-11-24T10:00:01Z"),
        pd.Timestamp("2026-11-24T10:00:02.25Z"),
        pd.Timestamp("2026-11-24T10:00:03.5Z"),
    ]
    assert df["service"][3] == "svc"
    assert df["pid"][0] == 7
    assert df["source"].unique().tolist() == ["mixed.jsonl"]


def test_unreadable_time_is_warned_and_kept():
    data = b'{"time": "yesterday-ish", "msg": "a"}\n{"time": "2026-11-24T10:00:00Z", "msg": "b"}\n'
    result = parse_json_logs(data, name="t.jsonl")
    df = to_frame(result.table)
    assert pd.isna(df["timestamp"][0])
    assert df["timestamp"][1] == pd.Timestamp("2026-11-24T10:00:00Z")
    assert df["timestamp_raw"][0] == "yesterday-ish"
    assert result.warnings == [
        "t.jsonl: 1 records have a time that could not be read (e.g. 'yesterday-ish'); kept in timestamp_raw"
    ]


def test_nothing_readable_raises_one_line_naming_the_source(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": \n{"b": \n')
    with pytest.raises(IngestError) as err:
        parse_json_logs(path, name="bad.jsonl")
    assert str(err.value).startswith("bad.jsonl:1: nothing readable: invalid JSON")
    assert "\n" not in str(err.value)


def test_broken_export_array_raises_with_its_line(tmp_path):
    path = tmp_path / "export.json"
    path.write_text('[\n  {"severity": "INFO"},\n  {"severity": \n')
    with pytest.raises(IngestError, match=r"^export.json:\d+: invalid JSON array"):
        parse_json_logs(path, name="export.json")


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("warn", "WARNING"),
        ("W", "WARNING"),
        ("Warning", "WARNING"),
        ("err", "ERROR"),
        ("E", "ERROR"),
        ("severe", "ERROR"),
        ("fatal", "CRITICAL"),
        ("crit", "CRITICAL"),
        ("EMERGENCY", "CRITICAL"),
        ("alert", "CRITICAL"),
        ("notice", "NOTICE"),
        ("info", "INFO"),
        ("I", "INFO"),
        ("debug", "DEBUG"),
        ("D", "DEBUG"),
        ("trace", "TRACE"),
        ("DEFAULT", None),  # Cloud Logging: no severity assigned
        ("whatever", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("3", "ERROR"),  # syslog
        (7, "DEBUG"),
        (30, "INFO"),  # pino
        (60, "CRITICAL"),
        (400, "WARNING"),  # Cloud Logging
        (800, "CRITICAL"),
    ],
)
def test_normalise_level(raw, level):
    assert normalise_level(raw) == level


def test_level_aliases_name_only_known_levels():
    assert set(LEVEL_ALIASES.values()) <= set(LOG_LEVELS)


def test_detect_json_shape():
    assert detect_json_shape(b'{"log":"x\\n","stream":"stdout","time":"t"}\n') == (
        LogFormat.DOCKER,
        False,
    )
    assert detect_json_shape(b'{"MESSAGE":"x","PRIORITY":"6"}') == (LogFormat.JOURNALD, False)
    assert detect_json_shape(b'[\n {\n  "insertId": "x",') == (LogFormat.CLOUD_LOGGING, True)
    assert detect_json_shape(b'{"msg":"x","level":"info"}') == (LogFormat.JSON, False)


def test_read_logs_json_formats_are_recorded():
    df = read_logs(LOGS / "cloudrun.jsonl")
    assert df.attrs["format"] == "cloud-logging"
    assert df.attrs["warnings"] == []
    assert df.attrs["sources"] == [
        {
            "source": str(LOGS / "cloudrun.jsonl"),
            "format": "cloud-logging",
            "line_format": None,
            "records": 6,
        }
    ]
    assert df.attrs["line_format"] is None
    forced = read_logs(LOGS / "docker.log", format="json")  # no lifting when forced generic
    assert forced.attrs["format"] == "json"
    assert forced["message"][1].startswith("{")


def test_keys_clashing_with_canonical_names_or_in_case_are_kept():
    data = (
        b'{"msg": "a", "line": 5, "source": "x.py", "Level": "warn", "level": "error"}\n'
        b'{"msg": "b", "line": 6, "source": "y.py"}\n'
    )
    df = to_frame(parse_json_logs(data, name="clash.jsonl").table)
    assert list(df["line"]) == [1, 2]  # the record's own "line" is renamed, not lost
    assert list(df["line_1"]) == [5, 6]
    assert list(df["source_1"]) == ["x.py", "y.py"]
    assert list(df["source"]) == ["clash.jsonl", "clash.jsonl"]
    assert df["level"][0] == "WARNING"
    assert df["level_1"][0] == "error"  # "level" beside "Level": both kept


def test_an_empty_export_has_no_records():
    with pytest.raises(IngestError, match=r"^<bytes>: no log records$"):
        read_logs(b"[\n]\n")
