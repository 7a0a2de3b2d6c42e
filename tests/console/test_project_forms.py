"""Project votes of forms A (per project 赞成/反对/弃权) and C (ranking, on paper) from the
console's form: derived, checked, counted by the rules engine."""

from __future__ import annotations

from typing import Any

import pytest

from tally.manual_count import ManualCountError, evaluate_manual, manual_counts
from tally.poll_description import (
    PAPER_ONLY,
    DescriptionError,
    ProjectsDescription,
    check_countable,
    derive,
)
from tally.poll_outcome import evaluate_poll
from tally.rules.model import ProjectForm
from tests.console.test_console_http import ROSTER, bearer, client, login

__all__ = ["client"]
NAMES = ("修路", "建桥", "学校", "诊所")


def test_form_a_has_one_question_per_project_and_is_counted_per_project() -> None:
    d = derive(ProjectsDescription("项目票决", NAMES, 2, ProjectForm.A), entry_id="a")
    assert [q["question"] for q in d.template["questions"]] == list(NAMES)
    assert all(q["answers"] == ["赞成", "反对", "弃权"] for q in d.template["questions"])
    check_countable(d.template, d.rules, 5, opening=True)
    counts = {
        "total": 5,
        "present": 5,
        "issued": 5,
        "received": 5,
        "result": [[4, 1, 0], [3, 2, 0], [2, 2, 1], [5, 0, 0]],
    }
    out = evaluate_poll(d.rules, d.template, counts)
    status = {i["name"]: i["status"] for i in out["items"]}
    assert status == {"修路": "selected", "建桥": "not_selected", "学校": "not_selected",
                      "诊所": "selected"}  # fmt: skip
    # form A may leave N out (every project that passes), but not when it is 差额
    free = derive(
        ProjectsDescription("项目票决", NAMES, None, ProjectForm.A, competitive=False),
        entry_id="a2",
    )
    assert "select" not in free.entry
    check_countable(free.template, free.rules, 5)
    with pytest.raises(DescriptionError, match="差额"):
        derive(ProjectsDescription("项目票决", NAMES, None, ProjectForm.A), entry_id="a3")
    with pytest.raises(DescriptionError, match="应选项目数"):
        derive(ProjectsDescription("项目票决", NAMES, None, ProjectForm.B), entry_id="b")


def test_form_c_is_a_ranking_on_paper_never_opened_on_the_tablets() -> None:
    d = derive(ProjectsDescription("项目排序", NAMES, 2, ProjectForm.C), entry_id="c")
    check_countable(d.template, d.rules, 5)  # saved
    with pytest.raises(DescriptionError) as err:
        check_countable(d.template, d.rules, 5, opening=True)
    assert err.value.message == PAPER_ONLY
    entered = {"issued": 3, "received": 3, "ballots": [["4", "1", "2"], ["4", "2"], ["1", "4"]]}
    with pytest.raises(ManualCountError, match="纸质选票"):
        manual_counts(d.entry, "show_of_hands", entered, total=5, present=3)
    counts = manual_counts(d.entry, "paper", entered, total=4, present=3)
    assert counts["ballots"] == [[3, 0, 1], [3, 1], [0, 3]]
    out = evaluate_manual(d.rules, counts, d.template)
    status = {i["name"]: i["status"] for i in out["items"]}
    # ranked within the first 2 places: 诊所 3 times (more than half of 4), 修路 twice (not)
    assert status["诊所"] == "selected" and status["修路"] != "selected", status
    with pytest.raises(ManualCountError, match="没有序号"):
        manual_counts(d.entry, "paper", {"ballots": [["9"]]}, total=5, present=3)


def test_the_console_offers_forms_a_b_and_c(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    c.post("/api/roster", json={"csv": ROSTER}, headers=bearer(tokens))
    page = c.get("/console/polls/new/projects").text
    assert all(w in page for w in ("A式：逐项赞成/反对/弃权", "B式：最多选N项", "C式：按序号排序"))
    form = {"csrf": csrf, "title": "民生实事", "projects": "\n".join(NAMES), "select": "2"}
    r = c.post("/console/polls/new/projects", data={**form, "form": "A", "competitive": "1"})
    assert "已保存为草稿（p1）" in r.text and "开始投票" in r.text
    poll = c.get("/api/polls/p1", headers=bearer(tokens)).json()
    assert len(poll["template"]["questions"]) == 4 and poll["rules"]["polls"][0]["form"] == "A"
    r = c.post("/console/polls/new/projects", data={**form, "form": "C", "competitive": "1"})
    assert "已保存为草稿（p2）" in r.text
    assert "开始投票" not in r.text.split("选票内容")[0] and "录入举手表决或纸质选票结果" in r.text
    r = c.post("/console/polls/p2/open", data={"csrf": csrf})
    assert "C式" in r.text and "纸质选票" in r.text  # refused in words
    r = c.post("/console/polls/new/projects", data={**form, "form": "X"})
    assert r.status_code == 422 and "票决方式" in r.text
    # the ranking entered from the paper ballots
    page = c.get("/console/polls/p2/manual").text
    assert 'value="show_of_hands" checked' not in page and "排序票决只能用纸质选票" in page
    r = c.post(
        "/console/polls/p2/manual",
        data={"csrf": csrf, "method": "paper", "present": "3", "issued": "3", "received": "3",
              "ballots": "4,1,2\n4 2\n1，4"},
    )  # fmt: skip
    assert "已按纸质选票录入结果" in r.text, r.text
