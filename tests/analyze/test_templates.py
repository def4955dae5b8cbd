"""mine_templates: messages in, one template per message out, for logs it has never seen."""

import hashlib
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import whyloop
from whyloop.analyze.templates import TEMPLATE_COLUMNS, mine_templates, template_id


def templates(messages, **kw):
    return mine_templates(messages, **kw)["template"].tolist()


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Connection from 10.0.0.1:5432 closed", "Connection from <*> closed"),
        ("request 550e8400-e29b-41d4-a716-446655440000 done", "request <*> done"),
        ("render took 35 ms", "render took <*>"),
        ("estimated size 5.2 KB, free 3.1 GB", "estimated size <*>, free <*>"),
        ("opened /var/log/app.log for writing", "opened <*> for writing"),
        ("retry=3 backoff=0.5s", "retry=<*> backoff=<*>"),
        ("started at 2024-05-01T12:00:00.123Z", "started at <*>"),
        ("panic at Fri Jul 01 08:16:53 PDT 2005", "panic at <*>"),
        ("handle 0x7f3a9c1e released", "handle <*> released"),
        ("Served block blk_-6952295868487656571 to /10.250.14.38", "Served block <*> to <*>"),
        ("KeyError: 'user_id'", "KeyError: <*>"),
        ("chip FF:F2:9F:16:E2:23:00:0D changed", "chip <*> changed"),
        ("user.dir=/home/x java.vendor=Oracle", "user.dir=<*> java.vendor=<*>"),
    ],
)
def test_builtin_masks_hide_what_varies(message, expected):
    assert templates([message]) == [expected]


def test_a_log_reads_as_a_few_templates():
    rnd = random.Random(7)
    lines = []
    for _ in range(300):
        lines.append(
            f"PacketResponder {rnd.randrange(3)} for block blk_{rnd.randrange(10**18)} terminating"
        )
        lines.append(
            f"Received block blk_{rnd.randrange(10**18)} of size {rnd.randrange(10**8)} from /10.0.{rnd.randrange(255)}.{rnd.randrange(255)}"
        )
        lines.append(f"Verification succeeded for blk_{rnd.randrange(10**18)}")
    got = mine_templates(lines)
    assert got["template"].nunique() == 3
    assert set(got["template"]) == {
        "PacketResponder <*> for block <*> terminating",
        "Received block <*> of size <*> from <*>",
        "Verification succeeded for <*>",
    }


def test_one_row_per_message_in_order_with_the_series_index():
    logs = pd.Series(["b 1", "a", "b 2", "a"], index=[10, 20, 30, 40], name="message")
    got = mine_templates(logs)
    assert list(got.columns) == list(TEMPLATE_COLUMNS)
    assert list(got.index) == [10, 20, 30, 40]
    assert got["template"].tolist() == ["b <*>", "a", "b <*>", "a"]
    assert logs.to_frame().join(got)["template"].tolist() == ["b <*>", "a", "b <*>", "a"]


def test_ids_are_a_hash_of_the_template_text_stable_across_runs():
    first = mine_templates(["Connection closed", "disk full on /dev/sda1"])
    second = mine_templates(["x", "disk full on /dev/sdb3", "Connection closed", "y 1"])
    assert first["template_id"][0] == second["template_id"][2]
    assert first["template_id"][1] == second["template_id"][1]
    digest = hashlib.blake2b(b"Connection closed", digest_size=6).hexdigest()
    assert first["template_id"][0] == template_id("Connection closed") == digest


def test_empty_input_gives_an_empty_frame():
    got = mine_templates([])
    assert got.empty
    assert list(got.columns) == list(TEMPLATE_COLUMNS)


@pytest.mark.parametrize("odd", [None, 3, float("nan"), b"bytes", pd.NA])
def test_a_message_that_is_not_a_string_gets_a_null_template(odd):
    got = mine_templates(["disk full", odd, "disk full"])
    assert got["template"].isna().tolist() == [False, True, False]
    assert got["template_id"].isna().tolist() == [False, True, False]


def test_inputs_as_arrow_numpy_and_string_series():
    messages = ["a 1", None, "a 2"]
    expected = ["a <*>", None, "a <*>"]
    for given in (
        pa.array(messages),
        pa.chunked_array([pa.array(messages[:1]), pa.array(messages[1:])]),
        np.array(messages, dtype=object),
        pd.Series(messages, dtype="str"),
        (m for m in messages),
    ):
        got = mine_templates(given)["template"]
        assert [None if pd.isna(t) else t for t in got] == expected, type(given)


def test_one_string_is_refused():
    with pytest.raises(TypeError, match="sequence of messages"):
        mine_templates("just one message")


def test_user_masks_run_first_even_those_re2_cannot_compile():
    lines = ["user alice logged in", "user bob logged in"]
    assert templates(lines) == lines  # two names are not yet a variable
    assert templates(lines, masks=[r"alice|bob"]) == ["user <*> logged in"] * 2
    # a look-behind: RE2 refuses it, Python's re runs it
    assert templates(lines, masks=[r"(?<=user )\w+"]) == ["user <*> logged in"] * 2


@pytest.mark.parametrize("bad", ["(", "x*", 3])
def test_a_mask_that_is_not_a_usable_regex_is_refused(bad):
    with pytest.raises(ValueError, match="mask"):
        mine_templates(["a"], masks=[bad])


def test_a_word_taking_many_values_is_a_variable_and_a_few_words_are_not():
    many = [f"removing {w}" for w in ("chargen", "daytime", "echo", "time", "rsync")]
    assert set(templates(many)) == {"removing <*>"}
    few = ["Connection established", "Connection closed", "Connection closed"]
    assert templates(few) == few


def test_the_first_word_names_the_event():
    lines = [f"{w} startup succeeded" for w in ("portmap", "gmetad", "xinetd", "syslog-ng")]
    assert templates(lines) == lines


def test_a_word_where_others_hold_a_value_is_a_value_too():
    lines = [f"synchronized to 10.100.20.{i}, stratum 3" for i in range(5)]
    lines.append("synchronized to LOCAL(0), stratum 10")
    assert set(templates(lines)) == {"synchronized to <*>, stratum <*>"}


def test_names_ending_in_a_digit_stay_names():
    lines = ["link up on eth0", "link up on eth1", "link up on lo", "link up on lo"]
    assert templates(lines) == [
        "link up on eth<*>",
        "link up on eth<*>",
        "link up on lo",
        "link up on lo",
    ]
    assert templates(["sqlite3.OperationalError: database is locked"]) == [
        "sqlite<*>.OperationalError: database is locked"
    ]


def test_keys_are_kept_and_their_values_masked():
    lines = ["LAPIC (acpi_id[0x01] lapic_id[0x00] enabled)", "icache prefetch depth.......0"]
    assert templates(lines) == [
        "LAPIC (acpi_id[<*>] lapic_id[<*>] enabled)",
        "icache prefetch depth.......<*>",
    ]


def test_lists_of_any_length_fold_into_one_value():
    lines = [
        "BLOCK* ask 10.0.0.1:50010 to delete blk_1 blk_2 blk_3",
        "BLOCK* ask 10.0.0.2:50010 to delete blk_4",
        "failed to resolve an14 an15 an16 an17",
        "failed to resolve an3",
    ]
    got = templates(lines)
    assert got[0] == got[1] == "BLOCK* ask <*> to delete <*>"
    assert got[2] == got[3] == "failed to resolve <*>"


def test_the_same_lines_give_the_same_templates_in_any_order():
    rnd = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "eps"]
    lines = [
        f"job {rnd.choice(words)} took {rnd.randrange(100)} ms on {rnd.choice(words)}"
        for _ in range(200)
    ]
    lines += [f"worker {w} idle" for w in words[:2]] + ["cache cleared"] * 3
    before = dict(zip(lines, templates(lines), strict=True))
    shuffled = lines[:]
    rnd.shuffle(shuffled)
    after = dict(zip(shuffled, templates(shuffled), strict=True))
    assert before == after


def test_mine_templates_is_public():
    assert whyloop.mine_templates is mine_templates
    assert "mine_templates" in whyloop.__all__
