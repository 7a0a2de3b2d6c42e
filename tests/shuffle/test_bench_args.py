"""renda bench shuffle: argument errors are refused before any work."""

from __future__ import annotations

import argparse

import pytest

from tally.bench import shuffle as bench


@pytest.mark.parametrize("sizes", ["abc", "0", "150,-1"])
def test_bad_sizes_are_refused(sizes: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--sizes", sizes, "--belenios-tool", "/bin/true"])
    assert bench.run(args) == 2
    assert "sizes" in capsys.readouterr().err


def test_template_is_a_renda_election() -> None:
    from tally.election import parse_question
    from tally.election_ballot import layout_of_question

    layout = layout_of_question(parse_question(bench._template()["questions"][0]))
    assert layout is not None and layout.seats == bench.SEATS
