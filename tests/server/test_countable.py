"""A poll the rules engine could not count is refused when saved and again when opened."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from keys.embedding import max_values
from keys.group import TEST_256
from tally.poll_description import ElectionDescription, derive
from tally.rules.model import Organ, PostType
from tests.server.helpers import session


def _election(names: tuple[str, ...]) -> Any:
    desc = ElectionDescription("副镇长选举", "副镇长", PostType.DEPUTY, Organ.GOVERNMENT, 2, names)
    # the test server's election group is RENDA-TEST-256: 30 integers a ballot
    return derive(desc, entry_id="e1", roster_max=4, max_ints=max_values(TEST_256))


def _four_candidates() -> tuple[dict[str, Any], dict[str, Any]]:
    """The rules of four candidates, the election ballot of three of them."""
    three = _election(("甲", "乙", "丙")).template
    return three, _election(("甲", "乙", "丙", "丁")).rules


def _per_candidate(rules: dict[str, Any]) -> dict[str, Any]:
    names = [c["name"] for c in rules["polls"][0]["candidates"]]
    questions = [
        {"answers": ["赞成", "反对", "弃权"], "min": 1, "max": 1, "question": n} for n in names
    ]
    return {"description": "副镇长选举", "name": "副镇长选举", "questions": questions}


def _insert(s: Any, template: dict[str, Any], rules: dict[str, Any]) -> str:
    """A poll stored some other way (an older server, a hand-edited database)."""
    service = s.client.app.state.service

    def insert(db_session: Any) -> str:
        poll = service.polls.insert(
            db_session, "副镇长选举", "election", template, rules, False, None, None
        )
        return str(poll.id)

    return str(asyncio.run(service.db(insert)))


def test_three_questions_and_four_candidates_refused_at_save_and_at_open(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    template, rules = _four_candidates()
    with session(tmp_path / "s", n=4, **db) as s:
        r = s.client.post(
            "/api/polls",
            json={"title": "副镇长选举", "kind": "election", "template": template, "rules": rules},
            headers=s.h(),
        )
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert detail["code"] == "not_countable" and "无法计票" in detail["message"]
        assert s.get("/api/polls") == []
        pid = _insert(s, template, rules)  # is not opened either
        r = s.client.post(f"/api/polls/{pid}/open", headers=s.h())
        assert r.status_code == 422 and r.json()["detail"]["code"] == "not_countable"
        assert s.get(f"/api/polls/{pid}")["state"] == "draft"


def test_a_per_candidate_election_is_refused_at_save_and_at_open(
    tmp_path: Path, db: dict[str, Any]
) -> None:
    """Its proofs cannot exclude 赞成 for more candidates than seats: 选举法 第四十四条."""
    rules = _election(("甲", "乙", "丙", "丁")).rules
    template = _per_candidate(rules)
    with session(tmp_path / "s", n=4, **db) as s:
        for kind in ("election", "other"):  # the rules say it is an election
            r = s.client.post(
                "/api/polls",
                json={"title": "副镇长选举", "kind": kind, "template": template, "rules": rules},
                headers=s.h(),
            )
            assert r.status_code == 422, r.text
            detail = r.json()["detail"]
            assert detail["code"] == "bad_template" and "选举法 第四十四条" in detail["message"]
        body = {"title": "副镇长选举", "kind": "election", "template": template, "rules": None}
        r = s.client.post("/api/polls", json=body, headers=s.h())
        assert r.status_code == 422 and r.json()["detail"]["code"] == "bad_template"
        assert s.get("/api/polls") == []
        pid = _insert(s, template, rules)
        r = s.client.post(f"/api/polls/{pid}/open", headers=s.h())
        assert r.status_code == 422 and r.json()["detail"]["code"] == "bad_template"
        assert s.get(f"/api/polls/{pid}")["state"] == "draft"


def test_lawless_election_refused_with_the_article(tmp_path: Path, db: dict[str, Any]) -> None:
    d = _election(("甲", "乙"))
    with session(tmp_path / "s", n=4, **db) as s:
        r = s.client.post(
            "/api/polls",
            json={"title": d.title, "kind": "election", "template": d.template, "rules": d.rules},
            headers=s.h(),
        )
        assert r.status_code == 422
        message = r.json()["detail"]["message"]
        assert "地方组织法 第二十七条第一款" in message and "多一人至三人" in message
        json.dumps(message)
