"""Matching: the same failure is found with its root cause and countermeasure; another is not."""

from __future__ import annotations

from whyloop import known
from whyloop.known import Entry, Failure, KnownIndex, Similarity
from whyloop.known.entries import Conclusion, Measure
from whyloop.schema import Confidence

from .conftest import History

SIG = "TimeoutError: timed out after <n> s waiting for connection_established (received [])"


def entry(**kw) -> Entry:
    base = {
        "analysis": "old-1",
        "path": "data/whys/old/old-1.yaml",
        "why": "1",
        "loop": "old",
        "iterations": ["1"],
        "clusters": ["aaa"],
        "signature": SIG,
        "tests": ["t.py::a", "t.py::b"],
        "stages": ["welcome"],
        "log_keys": ["websocket closed with <*>"],
        "causes": [Conclusion("R1", "the welcome is never sent", "root_cause")],
        "measures": [Measure("C1", "send it", verified=True, verified_iteration="2")],
    }
    return Entry(**{**base, **kw})


def test_the_sample_seen_again_matches_the_analysed_chain_as_a_regression(history: History):
    found = known.lookup_iteration(history.store, "new", root=history.root)
    by_cluster = {m.failure.label: m for m in found}
    m = by_cluster[history.welcome_cluster]
    assert m.rank == 1 and m.confidence is Confidence.HIGH
    assert {Similarity.SIGNATURE, Similarity.STAGE, Similarity.TESTS} <= m.kinds
    assert m.entry.path == str(history.path)
    assert m.entry.causes[0].role == "root_cause" and m.entry.measures[0].verified is True
    assert m.regression_of == "C1" and m.fixed_in == "loop old, iteration 2"
    text = known.describe(m)
    assert "seen in loop old, iteration 1: root cause R1" in text
    assert (
        "countermeasure C1 'Send the welcome right after the handshake' (verified in iteration 2)"
        in text
    )
    assert "REGRESSION: came back after being fixed in loop old, iteration 2" in text
    assert f"same signature {history.welcome_cluster}" in text


def test_a_failure_the_team_never_analysed_is_not_matched(history: History):
    found = known.lookup_iteration(history.store, "new", root=history.root)
    assert history.lock_cluster in {f.label for f in found.failures}
    assert history.lock_cluster not in {m.failure.label for m in found}


def test_the_analysed_iteration_itself_is_not_its_own_precedent(history: History):
    found = known.lookup_iteration(history.store, "old", "1", root=history.root)
    assert list(found) == []


def test_a_different_signature_with_the_same_stage_and_tests_is_not_a_match():
    index = KnownIndex([entry(log_keys=[])])
    failure = Failure(["bbb"], "ValueError: database is locked", ["t.py::a"], ["welcome"])
    assert known.match(index, failure) == []


def test_a_template_alone_is_not_a_match_but_with_the_stage_it_is():
    index = KnownIndex([entry()])
    alone = Failure(["bbb"], "KeyError: x", ["t.py::z"], [], ["websocket closed with <*>"])
    assert known.match(index, alone) == []
    staged = Failure(
        ["bbb"], "KeyError: x", ["t.py::z"], ["welcome"], ["websocket closed with <*>"]
    )
    (m,) = known.match(index, staged)
    assert m.kinds == {Similarity.TEMPLATE, Similarity.STAGE} and m.confidence is Confidence.LOW


def test_a_signature_reworded_slightly_is_similar_not_the_same():
    index = KnownIndex([entry(log_keys=[], stages=[], tests=[])])
    failure = Failure(["ccc"], SIG.replace("(received [])", "(received [] at all)"))
    (m,) = known.match(index, failure)
    assert m.kinds == {Similarity.SIMILAR_SIGNATURE} and m.confidence is Confidence.LOW
    assert "similar signature (8 of 10 words the same)" in m.reasons[0].text


def test_before_the_fix_was_verified_in_its_own_loop_it_is_not_a_regression():
    index = KnownIndex(
        [entry(measures=[Measure("C1", "x", verified=True, verified_iteration="3")])]
    )
    early = Failure(["aaa"], SIG, loop="old", iteration="2")
    late = Failure(["aaa"], SIG, loop="old", iteration="10")
    assert known.match(index, early)[0].regression_of is None
    assert known.match(index, late)[0].fixed_in == "iteration 3"


def test_an_unverified_countermeasure_says_so_and_no_regression_is_called():
    index = KnownIndex([entry(measures=[Measure("C1", "send it", done=True)])])
    (m,) = known.match(index, Failure(["aaa"], SIG, loop="new", iteration="1"))
    assert m.regression_of is None
    assert "(done, not verified: its tests and probes were not run again)" in known.describe(m)


def test_an_analysis_without_a_root_cause_offers_its_best_because_and_says_so():
    e = entry(causes=[Conclusion("1.1", "the greeting is skipped", "hypothesis")], measures=[])
    (m,) = known.match(KnownIndex([e]), Failure(["aaa"], SIG))
    text = known.describe(m)
    assert "no root cause recorded; hypothesis because 1.1 'the greeting is skipped'" in text
    assert "countermeasure: none recorded" in text


def test_matches_rank_by_score_the_most_alike_first():
    weak = entry(analysis="weak-1", stages=[], tests=[], log_keys=[])
    strong = entry(analysis="strong-1")
    index = KnownIndex([weak, strong])
    found = known.match(index, Failure(["aaa"], SIG, ["t.py::a"], ["welcome"]))
    assert [(m.rank, m.entry.analysis) for m in found] == [(1, "strong-1"), (2, "weak-1")]
    assert found[0].score > found[1].score


def test_the_frame_and_markdown_say_the_same_as_the_text(history: History):
    frame = known.for_iteration(history.store, "new", root=history.root)
    assert list(frame.columns) == list(known.wording.MATCH_COLUMNS)
    row = frame.iloc[0]
    assert row["regression"] == "came back after being fixed in loop old, iteration 2"
    assert row["seen_loop"] == "old" and row["seen_iteration"] == "1" and bool(row["verified"])
    md = known.to_markdown(frame)
    assert md.startswith(f"- **{history.welcome_cluster}** (high confidence")
    assert "**Regression: came back after being fixed in loop old, iteration 2.**" in md
    assert known.to_markdown(frame.iloc[0:0]).startswith("No known cause")


def test_the_report_section_tells_nothing_failed_from_nothing_known(history: History):
    assert known.section(history.store, "old", "2") == (
        "Nothing failed: no failure cluster to look up.\n"
    )
    text = known.section(history.store, "new", root=history.root)
    assert text.startswith(f"- **{history.welcome_cluster}**") and text.count("\n- ") == 0
    assert known.section(history.store, "new", root=history.root / "none").startswith(
        "No known cause: no past analysis resembles any of the 3 failure cluster(s)"
    )
