"""Every command ``whyloop`` has, found by walking its own parser, has help with a runnable example.

The commands are not listed here: a new one registered in ``whyloop.cli``
is checked as soon as it exists.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import pytest

from whyloop.cli import build_parser


def leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Each leaf command's words (``("probe", "ws")``) and parser, via the subparsers' choices."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield path, parser
    for action in actions:
        for name, child in action.choices.items():
            yield from leaves(child, (*path, name))


LEAVES = dict(leaves(build_parser()))


def test_the_walk_finds_every_command_group() -> None:
    assert {words[0] for words in LEAVES} == {
        "ingest",
        "store",
        "sandbox",
        "probe",
        "rerun",
        "findings",
        "whys",
        "report",
        "demo",
        "known",
        "lab",
        "postmortem",
    }
    assert ("probe", "suite") in LEAVES and ("sandbox", "e2e") in LEAVES


@pytest.mark.parametrize("words", list(LEAVES), ids=" ".join)
def test_help_has_an_example_of_the_command_itself(words: tuple[str, ...]) -> None:
    text = LEAVES[words].format_help()
    assert "example: whyloop " in text
    assert f"example: whyloop {' '.join(words)}" in text


@pytest.mark.parametrize("words", list(LEAVES), ids=" ".join)
def test_the_example_parses_to_the_command(words: tuple[str, ...]) -> None:
    text = LEAVES[words].format_help()
    example = text.split("example: ", 1)[1].splitlines()[0]
    argv = shlex.split(example)[1:]
    args = build_parser().parse_args(argv)
    assert args.run is LEAVES[words].get_default("run")


@pytest.mark.parametrize("words", list(LEAVES), ids=" ".join)
def test_each_command_runs_through_the_one_dispatch(words: tuple[str, ...]) -> None:
    parser = LEAVES[words]
    assert callable(parser.get_default("run"))
    assert parser.get_default("handler") is None and parser.get_default("func") is None


@pytest.mark.parametrize("words", list(LEAVES), ids=" ".join)
def test_help_exits_0_through_main(
    words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    from whyloop.cli import main

    with pytest.raises(SystemExit) as done:
        main([*words, "--help"])
    assert done.value.code == 0
    assert "example: whyloop " in capsys.readouterr().out
