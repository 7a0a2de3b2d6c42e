"""The count report text and its check against a Belenios result (pure functions)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys.hashing import sha256_hex
from tally.errors import RecordError
from tally.report_signatures import (
    check_report_against_result,
    count_report,
    parse_report_text,
    report_text,
)

RESULT = '{"num_tallied":3,"result":[[0,2,1,0]]}'


def _report(result_raw: str = RESULT, counts_result: object = None) -> dict[str, object]:
    counts = {"total": 3, "received": 3, "result": counts_result or [[0, 2, 1, 0]]}
    return count_report(
        session="镇人大",
        poll_id="p1",
        uuid="u" * 14,
        result_raw=result_raw,
        counts=counts,
        outcome={"passed": True, "label": "通过"},
    )


@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4))
def test_text_round_trips(extra: dict[str, object]) -> None:
    report = {**extra, **_report()}
    assert parse_report_text(report_text(report)) == report


def test_non_canonical_or_foreign_text_is_refused() -> None:
    text = report_text(_report())
    with pytest.raises(RecordError, match="start with"):
        parse_report_text(text[1:])
    spaced = "renda-count-report-v1\n" + json.dumps(_report(), ensure_ascii=False)
    with pytest.raises(RecordError, match="canonical"):
        parse_report_text(spaced)
    with pytest.raises(RecordError, match="kind"):
        parse_report_text(report_text({**_report(), "kind": "result"}))
    with pytest.raises(RecordError, match="duplicate"):
        parse_report_text(text.replace('{"counts"', '{"kind":"count_report","counts"', 1))


def test_report_must_match_the_result() -> None:
    check_report_against_result(_report(), RESULT)
    with pytest.raises(RecordError, match="per-option counts"):
        check_report_against_result(_report(counts_result=[[0, 3, 0, 0]]), RESULT)
    other = RESULT.replace("3", "4", 1)  # same per-option counts, another result text
    assert sha256_hex(other) != sha256_hex(RESULT)
    with pytest.raises(RecordError, match="result_hash"):
        check_report_against_result(_report(), other)
    with pytest.raises(RecordError, match="not valid JSON"):
        check_report_against_result(_report(), "{")
