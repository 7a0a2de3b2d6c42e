from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.errors import RecordError
from tally.json_format import compact, parse_canonical_json, parse_json

# Written by belenios-tool 2.0 (make-election) for a description with these characters.
TOOL_DESCRIPTION_JSON = (
    '"关于《某某决议》的表决 \\"quoted\\" \\\\ back / slash\\u0001\\u007f\\t\\n end é"'
)
TOOL_DESCRIPTION = '关于《某某决议》的表决 "quoted" \\ back / slash\x01\x7f\t\n end é'


def test_strings_are_escaped_as_yojson_does() -> None:
    assert compact(TOOL_DESCRIPTION) == TOOL_DESCRIPTION_JSON
    assert compact("\b\f\r\x1f\x00") == '"\\b\\f\\r\\u001f\\u0000"'
    assert compact("\u2028😀") == '"\u2028😀"'


def test_objects_keep_order_and_have_no_spaces() -> None:
    assert compact({"b": 1, "a": [True, False, None, "x"]}) == '{"b":1,"a":[true,false,null,"x"]}'


def test_floats_as_yojson() -> None:
    assert compact([1.5, 1e100, 0.1, 2.0, -3.0]) == "[1.5,1e+100,0.1,2.0,-3.0]"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_compact_is_canonical(value: object) -> None:
    text = compact(value)
    assert parse_json(text) == value
    assert parse_canonical_json(text) == value


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '{"a":1} ', '"\\u0041"', '"\\/"', "[1,2 ]", '{"a":1,"a":2}', "[NaN]", "[1", "01"],
)
def test_non_canonical_or_bad_json_is_refused(text: str) -> None:
    with pytest.raises(RecordError):
        parse_canonical_json(text)
