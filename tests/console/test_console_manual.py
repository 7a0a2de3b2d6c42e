"""The console's form for a poll held by show of hands or on paper (the devices failed)."""

from __future__ import annotations

import re
from typing import Any

from tests.console import pdf_text
from tests.console.test_console_http import ROSTER, bearer, client, login

__all__ = ["client"]


def _csrf(text: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)  # type: ignore[union-attr]


def test_a_show_of_hands_and_a_paper_election_entered_in_the_console(client: Any) -> None:
    c, tokens = client
    csrf = login(c, tokens["secretariat"])
    c.post("/api/roster", json={"csv": ROSTER}, headers=bearer(tokens))
    for d in c.get("/api/deputies", headers=bearer(tokens)).json():
        c.post(f"/api/deputies/{d['deputy_id']}/checkin", headers=bearer(tokens))
    r = c.post("/console/polls/new/motion", data={"csrf": csrf, "title": "关于议程的决定"})
    assert "已保存为草稿（p1）" in r.text and "录入举手表决或纸质选票结果" in r.text
    page = c.get("/console/polls/p1/manual")
    assert page.status_code == 200 and 'value="show_of_hands" checked' in page.text
    # more hands than deputies present: refused in words, nothing changes, values kept
    form = {"csrf": csrf, "method": "show_of_hands", "yes": "3", "no": "1", "abstain": "0"}
    r = c.post("/console/polls/p1/manual", data=form)
    assert r.status_code == 422 and "多于实到人数" in r.text and 'value="3"' in r.text
    assert c.get("/api/polls/p1", headers=bearer(tokens)).json()["state"] == "draft"
    r = c.post("/console/polls/p1/manual", data=dict(form, yes="2", no="1"))
    assert "已按举手表决录入结果" in r.text and "本事项为举手表决" in r.text
    assert "已计票（未公布）" in r.text and "通过" in r.text
    pdf = pdf_text(c.get("/console/polls/p1/report.pdf").content)
    assert "本次为举手表决" in pdf and "人工计票" in pdf
    # an election: paper only (the show-of-hands choice is disabled and refused)
    r = c.post(
        "/console/polls/new/election",
        data={
            "csrf": csrf,
            "title": "选举镇长",
            "post": "镇长",
            "seats": "1",
            "post_type": "head",
            "organ": "government",
            "round": "regular",
            "candidates": "张三\n李四",
        },
    )
    assert "已保存为草稿（p2）" in r.text, r.text
    page = c.get("/console/polls/p2/manual")
    assert 'value="show_of_hands" disabled' in page.text and "第二十八条" in page.text
    r = c.post(
        "/console/polls/p2/manual",
        data={"csrf": csrf, "method": "show_of_hands", "t-c1-yes": "3"},
    )
    assert r.status_code == 422 and "无记名投票" in r.text
    r = c.post(
        "/console/polls/p2/manual",
        data={
            "csrf": csrf,
            "method": "paper",
            "issued": "3",
            "received": "3",
            "t-c1-yes": "2",
            "t-c1-no": "1",
            "t-c2-yes": "0",
            "t-c2-no": "2",
            "write_ins": "王五,1",
        },
    )
    assert "已按纸质选票录入结果" in r.text, r.text
    poll = c.get("/api/polls/p2", headers=bearer(tokens)).json()
    assert poll["counts"]["write_in_totals"] == {"3": 1}  # 王五 is seat 003 of the roster
    elected = [i["name"] for i in poll["outcome"]["items"] if i["status"] == "elected"]
    assert elected == ["张三"]
    # the chair publishes; /results shows the mark
    csrf = login(c, tokens["chair"])
    assert "已公布" in c.post("/console/polls/p2/publish", data={"csrf": csrf}).text
    assert "纸质选票" in c.get("/results").text
