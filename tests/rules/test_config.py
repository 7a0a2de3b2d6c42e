"""Rules documents: schema, settings, and the law checks run when they are loaded."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from tally.rules.documents import parse_document
from tally.rules.errors import LawError, RulesError
from tally.rules.loader import load_rules, load_rules_file, schema
from tally.rules.model import Level, Organ, Settings, Unmarked, WriteInPolicy
from tally.rules.serialize import to_data

from .helpers import election, rules

EXAMPLE = Path(__file__).parents[2] / "tally" / "rules" / "examples" / "town-session.yaml"


def test_example_town_session_loads() -> None:
    r = load_rules_file(EXAMPLE)
    assert r.level is Level.TOWNSHIP
    assert r.total_deputies == 45
    chair = r.poll("chair")
    assert chair.kind.value == "election"
    assert chair.organ is Organ.TOWNSHIP_CONGRESS  # type: ignore[union-attr]
    assert chair.write_ins is WriteInPolicy.DEPUTIES  # type: ignore[union-attr]
    assert r.poll("mayor").write_ins is WriteInPolicy.ANYONE  # type: ignore[union-attr]


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_defaults_follow_the_reference() -> None:
    s = Settings()
    assert s.unmarked is Unmarked.ABSTAIN
    assert s.vote_quorum and not s.participation_majority
    assert s.election_quorum.value == "two_thirds"
    assert s.tie_revote_threshold.value == "plurality"
    assert s.project_majority_floor


def test_poll_settings_override_session_settings() -> None:
    r = rules(
        election("a", seats=1, cands=["A"], post_type="head", settings={"unmarked": "void"}),
        election("b", seats=1, cands=["B"], post_type="head"),
        unmarked="yes",
    )
    assert r.poll("a").settings.unmarked is Unmarked.VOID
    assert r.poll("b").settings.unmarked is Unmarked.YES


def test_yaml_yes_and_no_stay_strings() -> None:
    assert parse_document("{yes: 1, no: 2, on: 3}") == {"yes": 1, "no": 2, "on": 3}
    assert parse_document("a: true") == {"a": True}


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({}, "session"),
        ({"session": {"level": "province"}}, "session/level"),
        ({"session": {"level": "county"}, "polls": [{"id": "x", "kind": "vote"}]}, "polls/0"),
        ({"session": {"level": "county"}, "settings": {"unmarked": "maybe"}}, "settings"),
        ({"session": {"level": "county"}, "extra": 1}, "extra"),
    ],
)
def test_schema_errors_are_plain(doc: object, words: str) -> None:
    with pytest.raises(RulesError, match=words):
        load_rules(doc)


def test_bad_yaml_is_a_rules_error(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text("session: [unclosed", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules_file(p)
    with pytest.raises(RulesError, match="cannot read"):
        load_rules_file(tmp_path / "missing.yaml")


def test_duplicate_ids_refused() -> None:
    with pytest.raises(RulesError, match="twice"):
        rules(election("a", seats=1, cands=["A", "A"], post_type="head"))
    with pytest.raises(RulesError, match="twice"):
        rules({"id": "m", "kind": "motion"}, {"id": "m", "kind": "motion"})


def test_head_post_must_name_its_organ() -> None:
    doc = election("a", seats=1, cands=["A"], post_type="head")
    del doc["organ"]
    with pytest.raises(RulesError, match="organ"):
        rules(doc)


@pytest.mark.parametrize(
    ("poll", "level", "article"),
    [
        (election(seats=3, cands=["A", "B", "C"]), "township", "地方组织法 第二十七条第一款"),
        (election(seats=2, cands=list("ABCDEF")), "township", "地方组织法 第二十七条第一款"),
        (election(seats=1, cands=list("ABC"), post_type="head"), "county", "第二十七条"),
        (election(seats=2, cands=list("ABC"), post_type="head"), "county", "第二十七条"),
        (
            election(seats=10, cands=[str(i) for i in range(10)], post_type="member"),
            "county",
            "地方组织法 第二十七条第一款",
        ),
        (
            election(seats=10, cands=[str(i) for i in range(11)], post_type="higher_deputy"),
            "county",
            "选举法 第三十一条第二款",
        ),
        (
            election(seats=2, cands=list("ABCD"), post_type="higher_deputy"),
            "township",
            "选举法 第三条",
        ),
        (
            election(seats=1, cands=list("AB"), post_type="head", organ="township_congress"),
            "county",
            "地方组织法 第十八条",
        ),
        (
            election(seats=1, cands=list("AB"), post_type="head", organ="standing_committee"),
            "township",
            "地方组织法 第四十七条",
        ),
        (
            election(
                seats=1,
                cands=list("AB"),
                post_type="head",
                organ="township_congress",
                write_ins="anyone",
            ),
            "township",
            "地方组织法 第十八条",
        ),
        (election(seats=2, cands=list("ABC"), extra=4), "township", "第二十七条"),
        (election(seats=2, cands=list("ABC"), extra=2), "township", "第二十七条"),
        (
            election(seats=2, cands=list("AB"), round="supplementary"),
            "township",
            "地方组织法 第二十九条第三款",
        ),
        (
            election(seats=1, cands=list("A"), round="supplementary", post_type="higher_deputy"),
            "county",
            "选举法 第四十五条第四款",
        ),
        (election(seats=2, cands=list("AB"), round="tie_revote"), "township", "第二十九条第一款"),
    ],
)
def test_configurations_that_break_the_law_name_the_article(
    poll: dict[str, object], level: str, article: str
) -> None:
    with pytest.raises(LawError, match=article) as info:
        rules(poll, level=level)
    assert article in info.value.article


def test_legal_configurations_accepted() -> None:
    rules(
        election("head1", seats=1, cands=["A"], post_type="head"),  # 等额 head
        election("head2", seats=1, cands=["A", "B"], post_type="head"),
        election("dep", seats=3, cands=list("ABCDEF"), extra=3),
        election("mem", seats=7, cands=[str(i) for i in range(8)], post_type="member"),
        election("hd", seats=10, cands=[str(i) for i in range(13)], post_type="higher_deputy"),
        election("by", seats=2, cands=list("AB"), round="by_election"),
        election("sup", seats=1, cands=["A"], post_type="head", round="supplementary"),
        election("tie", seats=1, cands=list("AB"), round="tie_revote", parent="dep"),
        level="county",
        total=120,
    )


def test_small_committee_extra_setting() -> None:
    four = election(seats=4, cands=list("ABCDE"), post_type="member")
    rules(four, level="county")
    with pytest.raises(LawError, match="第二十七条"):
        rules(four, level="county", small_committee_extra="strict")


def test_next_poll_specs_serialize_to_valid_rules() -> None:
    r = rules(election("vm", seats=3, cands=list("ABCD")))
    spec = to_data(r.poll("vm"))
    again = rules(spec)
    assert again.poll("vm") == r.poll("vm")


def test_docs_carry_the_schema() -> None:
    import json

    doc = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    block = doc.split("```json\n")[-1].split("```")[0]
    assert json.loads(block) == schema()
