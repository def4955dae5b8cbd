import json
import os

import pandas as pd
import pytest

from whyloop.errors import StoreError
from whyloop.store import Store


def _tests_df(n=3):
    df = pd.DataFrame(
        {
            "test_id": [f"t{i}" for i in range(n)],
            "outcome": pd.Categorical(["passed"] * n),
            "start": pd.to_datetime(["2026-11-24T10:00:00Z"] * n, utc=True),
            "props": [{"a": i} for i in range(n)],
        }
    )
    df.attrs["warnings"] = ["r.xml:3: odd time"]
    return df


def test_write_read_round_trip_and_manifest(tmp_path):
    store = Store(tmp_path)
    folder = store.write("staging", tests=_tests_df(), sources=["r.xml"])
    assert folder.name == "1"
    back = store.read("staging", "1", "tests")
    assert list(back["test_id"]) == ["t0", "t1", "t2"]
    assert str(back["start"].dt.tz) == "UTC"
    assert json.loads(back["props"][1]) == {"a": 1}
    assert back.attrs["warnings"] == ["r.xml:3: odd time"]
    manifest = store.manifest("staging", "1")
    assert manifest["tables"]["tests"]["rows"] == 3
    assert manifest["tables"]["tests"]["sources"] == ["r.xml"]
    assert store.next_iteration("staging") == "2"


def test_adding_a_table_keeps_the_others_and_replacing_drops_old_file(tmp_path):
    store = Store(tmp_path)
    store.write("l", "1", tests=_tests_df(3))
    store.write("l", "1", logs=pd.DataFrame({"message": ["x"]}))
    store.write("l", "1", tests=_tests_df(5))
    assert set(store.manifest("l", "1")["tables"]) == {"tests", "logs"}
    assert len(store.read("l", "1", "tests")) == 5
    assert len(list((tmp_path / "l" / "1").glob("tests-*.parquet"))) == 1


def test_interrupted_write_never_reads_as_complete(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write("l", "1", tests=_tests_df(3))

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("whyloop.store._write_json_atomic", boom)
    with pytest.raises(KeyboardInterrupt):
        store.write("l", "1", tests=_tests_df(7))
    with pytest.raises(KeyboardInterrupt):
        store.write("l", "2", tests=_tests_df(7))
    monkeypatch.undo()
    assert len(store.read("l", "1", "tests")) == 3  # the old table still stands
    assert store.iterations("l") == ["1"]  # iteration 2 has no manifest: not there
    with pytest.raises(StoreError, match="no iteration '2'"):
        store.read("l", "2")


def test_read_all_for_trends(tmp_path):
    store = Store(tmp_path)
    for n in (2, 3, 4):
        store.write("l", tests=_tests_df(n))
    both = store.read_all("l", "tests")
    assert both.groupby("iteration").size().to_dict() == {"1": 2, "2": 3, "3": 4}
    assert store.loops() == ["l"]


@pytest.mark.parametrize("name", ["../x", "", "a/b", ".."])
def test_bad_names_refused(tmp_path, name):
    with pytest.raises(StoreError, match="invalid"):
        Store(tmp_path).write(name, tests=_tests_df())


def test_missing_table_lists_what_is_there(tmp_path):
    store = Store(tmp_path)
    store.write("l", "1", tests=_tests_df())
    with pytest.raises(StoreError, match=r"has no table 'logs' \(has: tests\)"):
        store.read("l", "1", "logs")


def test_unwritable_store_is_store_error(tmp_path):
    # a file where the store's folder should be: no permission bits involved, so root fails too
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create"):
        Store(blocker).write("l", tests=_tests_df())


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_read_only_store_is_store_error(tmp_path):
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot create"):
            Store(root).write("l", tests=_tests_df())
    finally:
        root.chmod(0o700)
