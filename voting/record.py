"""The session's public record: a folder with one Belenios archive per poll (DESIGN §4).

OUT/session.json            session name, group, server public key, roster counts
OUT/issuance.json           per poll: the seats issued a ballot (发出选票) with signed statements
OUT/outcomes.json           per poll: state, counts, rules outcome, signed result statement
OUT/polls/<poll_id>/<uuid>.bel   the Belenios archive (belenios-tool election verify --dir)
OUT/polls/<poll_id>/rules.json   the poll's rules, when it has any
OUT/polls/<poll_id>/report.json  the count report text and the scrutineers' signatures of it
                                 (tally.report_signatures.check_report_signatures)

Nothing here links a deputy to a credential or a choice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voting.models import Deputy, Issuance, Poll
from voting.report_signing import report_json

if TYPE_CHECKING:
    from voting.service import SessionService

RECORDED = ("closed", "tallied", "published")


def _collect(service: SessionService, s: Session) -> dict[str, Any]:
    counts = dict(
        s.execute(select(Deputy.attendance, func.count()).group_by(Deputy.attendance)).all()
    )
    polls = []
    issuance: dict[str, Any] = {}
    for poll in s.scalars(select(Poll).order_by(Poll.seq)):
        issued = list(
            s.execute(
                select(Issuance.seat, Issuance.statement)
                .where(Issuance.poll_id == poll.id)
                .order_by(Issuance.seat)
            ).all()
        )
        issuance[poll.id] = [{"seat": seat, "statement": json.loads(stmt)} for seat, stmt in issued]
        polls.append(
            {
                "poll_id": poll.id,
                "title": poll.title,
                "kind": poll.kind,
                "state": poll.state,
                "uuid": poll.uuid,
                "parent_id": poll.parent_id,
                "relation": poll.relation,
                "issued": len(issued),
                "counts": json.loads(poll.counts) if poll.counts else None,
                "outcome": json.loads(poll.outcome) if poll.outcome else None,
                "statement": json.loads(poll.statement) if poll.statement else None,
                "report": report_json(service, s, poll),
                "rules": json.loads(poll.rules) if poll.rules else None,
                "archive": f"polls/{poll.id}/{poll.uuid}.bel" if poll.state in RECORDED else None,
            }
        )
    return {
        "session": {
            **service.session_info(),
            "total": sum(counts.values()),
            "attendance": counts,
        },
        "polls": polls,
        "issuance": issuance,
    }


async def public_index(service: SessionService) -> dict[str, Any]:
    data = await service.db(lambda s: _collect(service, s))
    published = [p for p in data["polls"] if p["state"] == "published"]
    return {"session": data["session"], "polls": published}


async def export_record(service: SessionService, out: Path) -> Path:
    """Write the record folder; archives of closed polls are copied as they stand."""
    data = await service.db(lambda s: _collect(service, s))
    out.mkdir(parents=True, exist_ok=True)
    (out / "session.json").write_text(
        json.dumps(data["session"], ensure_ascii=False, indent=2), "utf-8"
    )
    (out / "issuance.json").write_text(
        json.dumps(data["issuance"], ensure_ascii=False, indent=2), "utf-8"
    )
    (out / "outcomes.json").write_text(
        json.dumps(data["polls"], ensure_ascii=False, indent=2), "utf-8"
    )
    for poll in data["polls"]:
        if poll["archive"] is None:
            continue
        folder = out / "polls" / poll["poll_id"]
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(service._archive_path(poll["poll_id"]), folder / f"{poll['uuid']}.bel")
        if poll["report"] is not None:
            (folder / "report.json").write_text(
                json.dumps(poll["report"], ensure_ascii=False, indent=2), "utf-8"
            )
        if poll["rules"] is not None:
            (folder / "rules.json").write_text(
                json.dumps(poll["rules"], ensure_ascii=False, indent=2), "utf-8"
            )
    return out
