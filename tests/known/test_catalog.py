"""Reading analyses into the index: every chain found, a cache that skips unchanged files."""

from __future__ import annotations

import json
import os

from whyloop import known, whys
from whyloop.known.keys import log_key, log_message, question_signature

from .conftest import History


def test_a_record_cited_in_an_analysis_and_its_mined_template_share_one_key():
    line = "2026-12-01T17:15:53.119Z backend WARNING websocket closed with 1011"
    assert log_message(line) == "websocket closed with 1011"
    assert log_key(log_message(line)) == log_key("websocket closed with <*>")
    assert log_key("user 42 logged in from 10.0.0.1:5000") == log_key(
        "user 7 logged in from 10.1.2.3:80"
    )
    assert log_key("12345") == ""  # nothing but a value: it would match anything


def test_the_signature_a_drafted_question_quotes_is_read_back():
    q = "Why did 3 tests fail with 'TimeoutError: timed out (received [])' and why did the ws probe fail?"
    assert question_signature(q) == "TimeoutError: timed out (received [])"
    assert question_signature("Why did 2 tests fail with 'KeyError: x...'?") == "KeyError: x"
    assert question_signature("Why did the deploy break?") == ""


def test_each_why_of_an_analysis_is_one_entry_with_its_conclusion(history: History):
    (entry,) = known.entries_of(whys.load(history.path), str(history.path))
    assert entry.key == "old-1#1" and entry.clusters == [history.welcome_cluster]
    assert entry.stages == ["welcome"] and len(entry.tests) == 3
    assert "websocket closed with <*>" in entry.log_keys
    assert [c.id for c in entry.causes] == ["R1"] and entry.measures[0].verified is True


def test_the_cache_is_used_while_files_are_unchanged_and_refreshed_when_one_changes(
    history: History,
):
    cache = history.root / "cache.json"
    first = known.load_index(history.root, cache=cache)
    assert len(first) == 1 and cache.is_file()
    data = json.loads(cache.read_text())
    (name,) = data["files"]
    data["files"][name]["entries"][0]["question"] = "from the cache"
    cache.write_text(json.dumps(data))
    assert known.load_index(history.root, cache=cache).entries[0].question == "from the cache"
    st = history.path.stat()
    os.utime(history.path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert known.load_index(history.root, cache=cache).entries[0].question != "from the cache"


def test_a_broken_file_is_skipped_with_its_line_and_the_rest_is_read(history: History):
    bad = history.root / "old" / "bad.yaml"
    bad.write_text(
        "format: whyloop-whys/1\nid: bad\ntitle: t\nproblem: p\nwhys:\n  - question: q\n    becauses:\n      - text: x\n        status: confimed\n"
    )
    index = known.load_index(history.root)
    assert len(index) == 1
    (error,) = index.skipped.values()
    assert "bad.yaml:9:" in error and "status" in error


def test_a_cache_that_cannot_be_written_is_noted_and_the_lookup_still_works(
    history: History, tmp_path
):
    blocked = tmp_path / "file"
    blocked.write_text("")
    index = known.load_index(history.root, cache=blocked / "cache.json")
    assert len(index) == 1 and "not written" in index.notes[0]


def test_no_folder_holds_no_analyses(tmp_path):
    index = known.load_index(tmp_path / "missing")
    assert len(index) == 0 and index.analyses() == 0


def test_a_postmortem_of_the_analysed_loop_is_matched_too(history: History):
    from whyloop import postmortem

    pm = postmortem.build(history.store, "old", ["1", "2"], whys_root=history.root)
    path = pm.save(postmortem.default_path(pm, postmortem.postmortems_dir(history.store.root)))
    found = known.lookup_iteration(history.store, "new")  # whys/ and postmortems/ by default
    by_kind = {m.entry.kind: m for m in found if m.failure.label == history.welcome_cluster}
    assert set(by_kind) == {"whys", "postmortem"}
    m = by_kind["postmortem"]
    assert m.entry.path == str(path) and m.entry.clusters == [history.welcome_cluster]
    assert m.regression_of and "postmortem file" in known.describe(m)
    assert {known.Similarity.SIGNATURE, known.Similarity.TESTS} <= m.kinds
    lock = [x for x in found if x.failure.label == history.lock_cluster]
    assert lock == []


def test_a_postmortem_file_can_be_looked_up_itself(history: History):
    from whyloop import postmortem

    pm = postmortem.build(history.store, "old", ["1", "2"], whys_root=history.root)
    path = pm.save(history.store.root.parent / "elsewhere" / "pm.yaml")
    found = known.lookup_file(path, root=history.root)
    (failure,) = found.failures
    assert failure.clusters == [history.welcome_cluster]
    assert failure.loop == "old" and failure.iteration == "1" and len(failure.tests) == 3
    assert list(found) == []  # the analysis of that same iteration is no precedent of it
