"""Real-world logs from ../shared/corpus: container logs and the loghub 2k samples."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from tests.support import CORPUS
from whyloop.ingest.logs.read import read_logs
from whyloop.schema import LOG_COLUMNS, LOG_LEVELS

if not CORPUS.exists():
    pytest.skip(f"corpus not present at {CORPUS}", allow_module_level=True)

pytestmark = pytest.mark.corpus

LOGS = CORPUS / "logs"
LOGHUB = CORPUS / "loghub"
FORMATS = json.loads((LOGHUB / "formats.json").read_text())


@pytest.mark.parametrize("path", sorted(LOGS.iterdir()), ids=lambda p: p.name)
def test_every_container_log_ingests(path):
    df = read_logs(path)
    assert len(df) >= 1
    assert tuple(df.columns[: len(LOG_COLUMNS)]) == LOG_COLUMNS
    assert df["timestamp"].notna().all()
    assert set(df["level"].dropna()) <= set(LOG_LEVELS)
    assert df["message"].notna().all()
    assert df.attrs["format"] == "docker"


def test_the_corrupted_line_is_counted_and_the_rest_kept():
    path = LOGS / "beats__filebeat__docker_corrupted.log"
    total = sum(1 for line in path.read_text().splitlines() if line.strip())
    df = read_logs(path)
    assert len(df) == total - 1 == 20
    assert df.attrs["warnings"] == [
        f"{path}:7: invalid JSON (unexpected content after document); line skipped"
    ]
    assert 7 not in set(df["line"])
    assert list(df["line"]) == [n for n in range(1, total + 1) if n != 7]
    assert df["message"].iloc[0] == "Fetching main repository github.com/elastic/beats..."


def test_json_inside_docker_logs_is_lifted():
    istio = read_logs(
        LOGS / "fluent-bit__kubernetes__socks_session-db-fdd649d68-cq5sp_istio-proxy.log"
    )
    assert istio["level_raw"][0] == "info"
    assert istio["destinationWorkload"][0] == "user-db"
    assert istio["totalSentBytes"][0] == 1671996
    assert istio["timestamp"][0] == pd.Timestamp("2018-09-21T02:56:05.979833Z")  # the app's time
    merged = read_logs(LOGS / "fluent-bit__kubernetes__options_merge-log-enabled_json.log")
    assert merged["text"][0] == "Simple text"


def test_all_container_logs_together_keep_their_sources():
    df = read_logs(str(LOGS / "*.log"))
    assert df["source"].nunique() == len(list(LOGS.glob("*.log")))
    assert len(df.attrs["warnings"]) == 1


@pytest.mark.parametrize("system", sorted(FORMATS))
def test_loghub_samples_parse_with_their_formats(system):
    spec = FORMATS[system]
    path = LOGHUB / spec["log_file"]
    df = read_logs(path, line_format=spec["log_format"])
    with (LOGHUB / (spec["log_file"] + "_structured.csv")).open(newline="", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    assert len(df) == len(truth) == 2000
    assert df.attrs["warnings"] == []
    assert list(df["line"]) == list(range(1, 2001))
    # every line's Content is what loghub's own parser extracted
    got = [m.strip() for m in df["message"].fillna("")]
    want = [row["Content"].strip() for row in truth]
    assert got == want
    assert set(df["level"].dropna()) <= set(LOG_LEVELS)
    if "<Level>" not in spec["log_format"]:  # no level in the format: none is invented
        assert df["level"].isna().all(), system
    if any(k in spec["log_format"] for k in ("<Date>", "<Time>", "<Timestamp>")):
        assert df["timestamp"].notna().all(), system
        assert df["timestamp"].dt.year.between(2000, 2030).all(), system
