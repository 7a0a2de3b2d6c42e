"""A poll the rules engine could not count is refused when saved and again when opened."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tally.poll_description import ElectionDescription, derive
from tally.rules.model import Organ, PostType
from tests.server.helpers import session


def _four_candidates() -> tuple[dict[str, Any], dict[str, Any]]:
    d = derive(
        ElectionDescription(
            "副镇长选举", "副镇长", PostType.DEPUTY, Organ.GOVERNMENT, 2, ("甲", "乙", "丙", "丁")
        ),
        entry_id="e1",
    )
    three = dict(d.template, questions=d.template["questions"][:3])
    return three, d.rules


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
        # a poll stored some other way (an older server, a hand-edited database) is not opened
        service = s.client.app.state.service  # type: ignore[attr-defined]

        def insert(db_session: Any) -> str:
            poll = service.polls.insert(
                db_session, "副镇长选举", "election", template, rules, False, None, None
            )
            return str(poll.id)

        pid = asyncio.run(service.db(insert))
        r = s.client.post(f"/api/polls/{pid}/open", headers=s.h())
        assert r.status_code == 422 and r.json()["detail"]["code"] == "not_countable"
        assert s.get(f"/api/polls/{pid}")["state"] == "draft"


def test_lawless_election_refused_with_the_article(tmp_path: Path, db: dict[str, Any]) -> None:
    d = derive(
        ElectionDescription(
            "副镇长选举", "副镇长", PostType.DEPUTY, Organ.GOVERNMENT, 2, ("甲", "乙")
        ),
        entry_id="e1",
    )
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
