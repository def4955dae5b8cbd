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
    store.write("l", "1", tests=_tests_df(5), replace=True)
    assert set(store.manifest("l", "1")["tables"]) == {"tests", "logs"}
    assert len(store.read("l", "1", "tests")) == 5
    assert len(list((tmp_path / "l" / "1").glob("tests-*.parquet"))) == 1


def test_a_table_the_iteration_holds_is_refused_and_nothing_is_written(tmp_path):
    store = Store(tmp_path)
    store.write("l", "1", tests=_tests_df(3))
    before = sorted((tmp_path / "l" / "1").iterdir())
    with pytest.raises(StoreError) as refused:
        store.write("l", "1", logs=pd.DataFrame({"message": ["x"]}), tests=_tests_df(5))
    message = str(refused.value)
    assert "\n" not in message
    assert "iteration '1' of loop 'l' already has table 'tests'" in message
    assert "replace=True (--replace)" in message
    with pytest.raises(StoreError, match="already has table 'tests'"):
        store.check_free("l", "1", "logs", "tests")
    store.check_free("l", "1", "logs")  # free: no error
    store.check_free("l", "9", "tests")  # no such iteration yet: free
    assert sorted((tmp_path / "l" / "1").iterdir()) == before  # no logs, no stray file
    assert len(store.read("l", "1", "tests")) == 3


def test_bad_input_creates_no_iteration(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="not a pandas DataFrame"):
        store.write("l", tests=_tests_df(), logs=[1, 2])
    with pytest.raises(StoreError, match="invalid table name"):
        store.write("l", **{"tests": _tests_df(), "../x": _tests_df()})
    assert not (tmp_path / "l").exists()


def test_a_write_failing_midway_leaves_no_file_and_no_iteration(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write("l", tests=_tests_df())
    real = Store._write_parquet

    def second_table_fails(df, path):
        if path.name.startswith("logs-"):
            raise StoreError("disk full", path=path)
        real(df, path)

    monkeypatch.setattr(Store, "_write_parquet", staticmethod(second_table_fails))
    with pytest.raises(StoreError, match="disk full"):
        store.write("l", tests=_tests_df(), logs=pd.DataFrame({"message": ["x"]}))
    with pytest.raises(StoreError, match="disk full"):
        store.write("l", "1", replace=True, tests=_tests_df(9), logs=pd.DataFrame({"m": ["x"]}))
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "l").iterdir() if p.is_dir()] == ["1"]  # 2 undone
    named = {t["file"] for t in store.manifest("l", "1")["tables"].values()}
    assert {p.name for p in (tmp_path / "l" / "1").glob("*.parquet")} == named
    assert len(store.read("l", "1")) == 3
    assert store.write("l", tests=_tests_df()).name == "2"  # the number was given back


def test_next_number_skips_a_folder_being_written(tmp_path):
    store = Store(tmp_path)
    store.write("l", tests=_tests_df())
    (tmp_path / "l" / "2").mkdir()  # another writer took 2 and has no manifest yet
    assert store.iterations("l") == ["1"]
    assert store.next_iteration("l") == "3"
    assert store.write("l", tests=_tests_df()).name == "3"
    assert store.iterations("l") == ["1", "3"]


def test_interrupted_write_never_reads_as_complete(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.write("l", "1", tests=_tests_df(3))

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("whyloop.store._write_json_atomic", boom)
    with pytest.raises(KeyboardInterrupt):
        store.write("l", "1", tests=_tests_df(7), replace=True)
    with pytest.raises(KeyboardInterrupt):
        store.write("l", "2", tests=_tests_df(7))
    monkeypatch.undo()
    assert len(store.read("l", "1", "tests")) == 3  # the old table still stands
    assert store.iterations("l") == ["1"]  # iteration 2 has no manifest: not there
    with pytest.raises(StoreError, match="no iteration '2'"):
        store.read("l", "2")
    assert len(list((tmp_path / "l").rglob("*.parquet"))) == 1  # the interrupted files are gone


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
