"""The session's repeated database queries, each written once. Functions of a SQLAlchemy
session (run inside :meth:`SessionContext.db`); they read, they do not write."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from tally.messages import ErrorCode
from voting.models import (
    BallotRow,
    Deputy,
    Issuance,
    Meta,
    PartialDecryptionRow,
    Poll,
    ReportSignatureRow,
    ShuffleRow,
    Staff,
    Vote,
    Voter,
)
from voting.session.errors import ActionError, Code
from voting.session.states import PollState, Presence, Role


def count(s: Session, model: Any, *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


# A poll's columns that grow with the number of voters (2 MB of public credentials at 3,000):
# not read by the work done for each kiosk message, each connection and each screen refresh.
_LIGHT = (defer(Poll.public_credentials), defer(Poll.decrypt_tally))


def poll(s: Session, poll_id: str, *, light: bool = False) -> Poll:
    """The poll, or the refusal ``poll_not_found`` (404). ``light``: without the columns that
    grow with the voters (loaded if read inside the session; an error if read after it)."""
    row = s.get(Poll, poll_id, options=_LIGHT if light else ())
    if row is None:
        raise ActionError(ErrorCode.POLL_NOT_FOUND, f"no poll {poll_id!r}", 404)
    return row


def poll_columns(s: Session, poll_id: str, *columns: Any) -> Any:
    """These columns of the poll's row (what a kiosk message needs, not the ORM row), or
    ``poll_not_found``."""
    row = s.execute(select(*columns).where(Poll.id == poll_id)).one_or_none()
    if row is None:
        raise ActionError(ErrorCode.POLL_NOT_FOUND, f"no poll {poll_id!r}", 404)
    return row


def poll_for_cast(s: Session, poll_id: str) -> tuple[str, str | None]:
    """The poll's state and election (what a cast needs, two columns), or ``poll_not_found``."""
    state, election = poll_columns(s, poll_id, Poll.state, Poll.election)
    return str(state), election


def deputy(s: Session, deputy_id: int) -> Deputy:
    """The deputy, or the refusal ``not_found`` (404)."""
    row = s.get(Deputy, deputy_id)
    if row is None:
        raise ActionError(Code.NOT_FOUND, f"no deputy {deputy_id}", 404)
    return row


def deputies_total(s: Session) -> int:
    return count(s, Deputy)


def present_count(s: Session) -> int:
    return count(s, Deputy, Deputy.attendance == Presence.PRESENT.value)


def attendance_counts(s: Session) -> dict[str, int]:
    """Deputies by attendance value (``present``, ``leave``, ``absent``)."""
    rows = s.execute(select(Deputy.attendance, func.count()).group_by(Deputy.attendance)).all()
    return {str(k): int(v) for k, v in rows}


def issued_count(s: Session, poll_id: str) -> int:
    return count(s, Issuance, Issuance.poll_id == poll_id)


def received_count(s: Session, poll_id: str) -> int:
    """Ballots counted: one vote per credential."""
    return count(s, Vote, Vote.poll_id == poll_id)


def voters_count(s: Session, poll_id: str) -> int:
    return count(s, Voter, Voter.poll_id == poll_id)


def _present_key(poll_id: str) -> str:
    return f"present:{poll_id}"


def set_opening_present(s: Session, poll_id: str, present: int) -> None:
    """Keep 实到 as the poll's opening check counted it (every deputy checked in)."""
    s.merge(Meta(key=_present_key(poll_id), value=str(present)))


def opening_present(s: Session, poll_id: str) -> int:
    """实到 of the poll: the deputies checked in when it opened, whether or not their tablet
    works (the figure the opening's quorum check used); for a poll opened before this figure
    was kept, the deputies issued a ballot list (present with an enrolled tablet)."""
    row = s.get(Meta, _present_key(poll_id))
    return int(row.value) if row is not None else voters_count(s, poll_id)


def present_without_tablet(s: Session) -> list[str]:
    """Seats of the deputies checked in who have no enrolled tablet (they get no ballot)."""
    return list(
        s.scalars(
            select(Deputy.seat)
            .where(Deputy.attendance == Presence.PRESENT.value, Deputy.code_used.is_(False))
            .order_by(Deputy.seat)
        )
    )


def polls_in_order(s: Session, *, light: bool = False) -> list[Poll]:
    query = select(Poll).order_by(Poll.seq)
    return list(s.scalars(query.options(*_LIGHT) if light else query))


def poll_ids_in(s: Session, state: PollState) -> list[str]:
    return list(s.scalars(select(Poll.id).where(Poll.state == state.value)))


def followup_ids(s: Session, poll_id: str) -> list[str]:
    return list(s.scalars(select(Poll.id).where(Poll.parent_id == poll_id)))


def trustees_raw(s: Session, key: str = "trustees", group: str | None = None) -> str:
    """The session's trustees in a group (after the key ceremony; ``key`` is the group's
    setting, SessionGroups.key), or the refusal ``no_ceremony``."""
    row = s.get(Meta, key)
    if row is None:
        where = f" in the group {group}" if group else ""
        raise ActionError(
            Code.NO_CEREMONY,
            f"the scrutineers' key ceremony is not done yet{where}: start it (again) from the "
            "console, with every scrutineer connected",
            409,
        )
    return row.value


def scrutineer_indices(s: Session) -> list[int]:
    """The scrutineers' trustee indices (their trustee id in a poll is index + 1)."""
    return [
        row.trustee_index
        for row in s.scalars(select(Staff).where(Staff.role == Role.SCRUTINEER.value))
        if row.trustee_index is not None
    ]


def scrutineers_count(s: Session) -> int:
    return count(s, Staff, Staff.role == Role.SCRUTINEER.value)


def ballot(s: Session, poll_id: str, tracker: str) -> BallotRow | None:
    return s.scalar(
        select(BallotRow).where(BallotRow.poll_id == poll_id, BallotRow.tracker == tracker)
    )


def counted_ballots(s: Session, poll_id: str) -> list[str]:
    """The raw ballots that count (the one of each credential's vote)."""
    return list(
        s.scalars(
            select(BallotRow.raw)
            .join(Vote, Vote.ballot_id == BallotRow.id)
            .where(Vote.poll_id == poll_id)
        )
    )


def partials(s: Session, poll_id: str) -> dict[int, str]:
    """The stored partial decryptions of a poll, by trustee id."""
    return {
        r.trustee_id: r.raw
        for r in s.scalars(
            select(PartialDecryptionRow).where(PartialDecryptionRow.poll_id == poll_id)
        )
    }


def shuffles(s: Session, poll_id: str) -> list[tuple[int, str]]:
    """The stored shuffles of a poll in chain order: (owner trustee id, raw)."""
    return [
        (r.owner, r.raw)
        for r in s.scalars(
            select(ShuffleRow).where(ShuffleRow.poll_id == poll_id).order_by(ShuffleRow.seq)
        )
    ]


def report_signatures(s: Session, poll_id: str) -> list[ReportSignatureRow]:
    return list(
        s.scalars(
            select(ReportSignatureRow)
            .where(ReportSignatureRow.poll_id == poll_id)
            .order_by(ReportSignatureRow.trustee_id)
        )
    )
