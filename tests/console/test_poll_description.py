"""One description → template and rules; every law and consistency check before a poll exists."""

from __future__ import annotations

import pytest

from tally.election import make_election
from tally.poll_description import (
    DescriptionError,
    ElectionDescription,
    MotionDescription,
    PersonsDescription,
    ProjectsDescription,
    ballot_form_problem,
    check_countable,
    derive,
)
from tally.rules.model import Level, Organ, PostType


def _make(template: dict) -> None:
    from keys.group import group_by_name

    group = group_by_name("RFC-3526-2048")
    make_election(template, uuid="1" * 14, group=group, public_key=group.g)


def election(**kw: object) -> ElectionDescription:
    values: dict[str, object] = {
        "title": "副镇长选举",
        "post": "副镇长",
        "post_type": PostType.DEPUTY,
        "organ": Organ.GOVERNMENT,
        "seats": 2,
        "candidates": ("甲", "乙", "丙"),
    }
    values.update(kw)
    return ElectionDescription(**values)  # type: ignore[arg-type]


def test_each_kind_derives_a_countable_template_and_rules() -> None:
    for desc in (
        MotionDescription("关于政府工作报告的决议", "全文……"),
        ProjectsDescription("2027年民生实事", tuple(f"项目{i}" for i in range(1, 13)), 10),
        election(),
        PersonsDescription("任命表决", (("张三", "副镇长"), ("李四", ""))),
        PersonsDescription("罢免表决", (("王五", "镇长"),), removal=True),
    ):
        d = derive(desc, entry_id="x1", roster_max=45)
        check_countable(d.template, d.rules, total=45)
        _make(d.template)
        assert d.template["name"] == d.title == d.entry["title"]


def test_project_vote_12_choose_10() -> None:
    d = derive(
        ProjectsDescription("民生实事", tuple(f"项目{i}" for i in range(1, 13)), 10), entry_id="p"
    )
    q = d.template["questions"][0]
    assert (len(q["answers"]), q["max"]) == (12, 10)
    assert [p["name"] for p in d.entry["projects"]] == q["answers"]
    assert d.entry["select"] == 10 and d.entry["competitive"] is True
    with pytest.raises(DescriptionError, match="差额"):
        derive(ProjectsDescription("x", ("a", "b"), 2), entry_id="p")


def test_candidates_are_written_once_and_appear_in_both() -> None:
    d = derive(election(), entry_id="e", roster_max=45)
    assert [c["name"] for c in d.entry["candidates"]] == ["甲", "乙", "丙"]
    assert not d.homomorphic  # the 人大 election ballot, always
    (question,) = d.template["questions"]
    assert question["type"] == "NonHomomorphic"
    # 副镇长 (government): anyone may be elected, so a free name too (version 2, 8 characters)
    assert question["value"]["answers"][:4] == ["甲", "乙", "丙", "另选他人 1"]
    assert question["value"]["answers"][4] == "另选他人 1 姓名 (1/24)"
    assert question["extra"]["seats"] == 2 and question["extra"]["roster_max"] == 45
    assert question["extra"]["version"] == 2 and question["extra"]["names"] == 8
    chair = derive(election(organ=Organ.TOWNSHIP_CONGRESS), entry_id="e", roster_max=45)
    (question,) = chair.template["questions"]
    assert question["value"]["answers"] == ["甲", "乙", "丙", "另选他人 1", "另选他人 2"]
    assert question["extra"]["version"] == 1


def _per_candidate(names: tuple[str, ...]) -> dict:
    return {
        "description": "副镇长选举",
        "name": "副镇长选举",
        "questions": [
            {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": n} for n in names
        ],
    }


def test_a_per_candidate_homomorphic_election_is_refused_citing_article_44() -> None:
    d = derive(election(), entry_id="e", roster_max=45)
    assert ballot_form_problem("election", d.template, d.rules) is None
    old = _per_candidate(("甲", "乙", "丙"))
    # refused whether the server's kind or the rules say it is an election
    for kind, rules in (("election", None), ("other", d.rules), ("election", d.rules)):
        problem = ballot_form_problem(kind, old, rules)
        assert problem is not None and "选举法 第四十四条" in problem
    assert ballot_form_problem("confirmation", old, None) is None  # per person: no overvote
    broken = dict(d.template, questions=[dict(d.template["questions"][0], extra={"x": 1})])
    assert "格式不对" in str(ballot_form_problem("election", broken, d.rules))


def test_one_ballot_for_several_posts_that_voids_the_whole_sheet_is_refused() -> None:
    """On the tablet each post is a ballot of its own: 一次投票，分别计算 with an overfilled
    section void on its own is what it does; a 选举办法 that voids the whole sheet cannot be
    applied there, and is refused rather than counted another way (docs/rules.md §2.1)."""
    import copy

    d = derive(election(), entry_id="e", roster_max=45)
    rules = copy.deepcopy(d.rules)
    entry = rules["polls"][0] if "polls" in rules else rules
    entry["ballot"] = "b1"
    assert ballot_form_problem("election", d.template, rules) is None  # section: the default
    rules["settings"] = {"overfilled_section": "section"}
    assert ballot_form_problem("election", d.template, rules) is None
    rules["settings"] = {"overfilled_section": "sheet"}
    assert "整张选票作废" in str(ballot_form_problem("election", d.template, rules))
    del rules["settings"]
    entry["settings"] = {"overfilled_section": "sheet"}  # the poll's own setting
    assert "纸质选票" in str(ballot_form_problem("election", d.template, rules))
    entry["settings"]["election_method"] = "paper_tally"  # on paper: the sheets are counted
    assert ballot_form_problem("election", d.template, rules) is None
    entry["settings"]["election_method"] = "device"
    assert ballot_form_problem("election", d.template, rules) is not None
    del entry["ballot"]  # a ballot of its own: nothing else on it to void
    assert ballot_form_problem("election", d.template, rules) is None


def test_a_form_b_vote_whose_proofs_allow_more_than_n_is_refused() -> None:
    d = derive(
        ProjectsDescription("民生实事", tuple(f"项目{i}" for i in range(1, 13)), 10), entry_id="p"
    )
    assert ballot_form_problem("projects", d.template, d.rules) is None
    loose = dict(d.template, questions=[dict(d.template["questions"][0], max=12)])
    assert "第四十四条" in str(ballot_form_problem("projects", loose, d.rules))


def test_lawless_election_is_refused_with_the_article_and_its_words() -> None:
    # a deputy post (副职) needs one to three more candidates than seats
    d = derive(election(candidates=("甲", "乙")), entry_id="e", roster_max=45)
    with pytest.raises(DescriptionError) as err:
        check_countable(d.template, d.rules, total=45)
    assert err.value.article == "地方组织法 第二十七条第一款"
    assert "多一人至三人" in err.value.words


def test_three_questions_against_four_candidates_cannot_be_counted() -> None:
    """The election accepted before and failed after 30 deputies had voted."""
    d = derive(election(seats=2, candidates=("甲", "乙", "丙", "丁")), entry_id="e", roster_max=45)
    three = derive(election(seats=2, candidates=("甲", "乙", "丙")), entry_id="e", roster_max=45)
    template = dict(d.template, questions=three.template["questions"])
    with pytest.raises(DescriptionError, match="无法计票"):
        check_countable(template, d.rules, total=45)
    check_countable(d.template, d.rules, total=45)


def test_project_list_and_template_mismatch_is_refused() -> None:
    d = derive(
        ProjectsDescription("民生实事", tuple(f"项目{i}" for i in range(1, 13)), 10), entry_id="p"
    )
    q = dict(d.template["questions"][0], answers=d.template["questions"][0]["answers"][:11])
    with pytest.raises(DescriptionError, match="无法计票"):
        check_countable(dict(d.template, questions=[q]), d.rules)


def test_plain_mistakes_in_words() -> None:
    with pytest.raises(DescriptionError, match="两次"):
        derive(election(candidates=("甲", "甲", "乙")), entry_id="e", roster_max=45)
    with pytest.raises(DescriptionError, match="候选人"):
        derive(election(candidates=("", " ")), entry_id="e", roster_max=45)
    with pytest.raises(DescriptionError, match="名册"):  # an election needs the roster
        derive(election(), entry_id="e", roster_max=0)
    with pytest.raises(DescriptionError, match="议案名称"):
        derive(MotionDescription(" "), entry_id="m")


def test_level_matters_for_the_law() -> None:
    d = derive(
        election(
            post="人大副主席", organ=Organ.TOWNSHIP_CONGRESS, seats=1, candidates=("甲", "乙")
        ),
        entry_id="e",
        level=Level.COUNTY,
        roster_max=45,
    )
    with pytest.raises(DescriptionError) as err:
        check_countable(d.template, d.rules)
    assert err.value.article


def test_a_rules_document_imported_once_gives_every_poll() -> None:
    from tally.poll_description import imported_polls
    from tally.rules.documents import read_document

    doc = read_document("tally/rules/examples/town-session.yaml", "rules")
    assert isinstance(doc, dict)
    polls = imported_polls(doc, roster_max=45, total=45)  # its project vote is form A
    assert len(polls) == len(doc["polls"])
    for p, entry in zip(polls, doc["polls"], strict=True):
        assert p.rules["poll"] == entry["id"] and p.rules["session"] == doc["session"]
        _make(p.template)
        if entry["kind"] == "projects":  # form A: one 赞成/反对/弃权 question per project
            assert [q["question"] for q in p.template["questions"]] == [
                x["name"] for x in entry["projects"]
            ]
    bad = dict(doc, polls=[dict(e, seats=1) for e in doc["polls"] if e["kind"] == "election"])
    bad["polls"][0]["post_type"] = "head"
    bad["polls"][0]["seats"] = 2
    with pytest.raises(DescriptionError) as err:
        imported_polls(bad, roster_max=45)
    assert err.value.article
    for p, entry in zip(polls, doc["polls"], strict=True):
        if entry["kind"] == "election":  # on the election ballot
            assert ballot_form_problem(p.kind, p.template, p.rules) is None
            assert p.template["questions"][0]["type"] == "NonHomomorphic"
