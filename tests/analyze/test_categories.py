import pandas as pd
import pytest

from whyloop.analyze.categories import assign_categories, load_category_rules
from whyloop.errors import ConfigError


def _df():
    rows = [
        {
            "test_id": "e2e/test_ws.py::test_connect",
            "name": "test_connect",
            "message": "",
            "details": "",
            "outcome": "failed",
            "markers": "",
            "properties": "",
            "classname": "e2e.test_ws",
            "suite": "e2e/test_ws.py",
            "file": "r.xml",
        },
        {
            "test_id": "e2e/test_agents.py::test_list",
            "name": "test_list",
            "message": "HTTP 401 jwt expired",
            "details": "",
            "outcome": "failed",
            "markers": "",
            "properties": "",
            "classname": "e2e.test_agents",
            "suite": "e2e/test_agents.py",
            "file": "r.xml",
        },
        {
            "test_id": "e2e/test_x.py::TestThreads::test_a",
            "name": "test_a",
            "message": "",
            "details": "",
            "outcome": "passed",
            "markers": "",
            "properties": "",
            "classname": "e2e.test_x.TestThreads",
            "suite": "e2e/test_x.py",
            "file": "r.xml",
        },
        {
            "test_id": "t.py::test_m",
            "name": "test_m",
            "message": "",
            "details": "",
            "outcome": "passed",
            "markers": "flaky,websocket",
            "properties": "",
            "classname": "t",
            "suite": "t.py",
            "file": "r.xml",
        },
        {
            "test_id": "t.py::test_p",
            "name": "test_p",
            "message": "",
            "details": "",
            "outcome": "passed",
            "markers": "",
            "properties": '{"category": "Agent Infrastructure"}',
            "classname": "t",
            "suite": "t.py",
            "file": "r.xml",
        },
    ]
    return pd.DataFrame(rows)


def test_rules_first_match_wins_then_fallbacks(tmp_path):
    rules_file = tmp_path / "cats.yaml"
    rules_file.write_text(
        "- category: Auth\n  message: 're:(401|403)'\n"
        "- category: WebSocket\n  test_id: '*test_ws*'\n"
        "- category: Everything\n  test_id: '*agents*'\n"
    )
    df = assign_categories(_df(), load_category_rules(rules_file))
    assert list(df["category"]) == [
        "WebSocket",
        "Auth",
        "Threads",
        "websocket",
        "Agent Infrastructure",
    ]
    assert df["category_rule"][0] == "rule 2: test_id '*test_ws*'"
    assert df["category_rule"][2] == "class"
    assert df["category_rule"][3] == "marker websocket"
    assert df["category_rule"][4] == "property category"


def test_allure_categories_json(tmp_path):
    f = tmp_path / "categories.json"
    f.write_text(
        '[{"name": "Auth problems", "messageRegex": ".*jwt.*", "matchedStatuses": ["failed"]}]'
    )
    df = assign_categories(_df(), load_category_rules(f))
    assert df["category"][1] == "Auth problems"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("- category: X\n  colour: red\n", "cats.yaml: rule 1: unknown field 'colour'"),
        ("- test_id: '*'\n", "rule 1 has no 'category'"),
        ("- category: X\n  message: 're:('\n", "rule 1: message regex"),
        ("- category: [\n", "cats.yaml:"),
        ("category: X\n", "must be a list"),
    ],
)
def test_bad_rules_name_file_and_rule(tmp_path, text, match):
    f = tmp_path / "cats.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        load_category_rules(f)
    assert "\n" not in str(err.value)
