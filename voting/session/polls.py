"""Poll rows and their guarded transitions: create, list, read; the state machine applied by
the database (``UPDATE ... WHERE state = <expected>``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tally import messages as m
from tally.election import make_election
from voting.models import Meta, Poll
from voting.session import queries as q
from voting.session import views
from voting.session.context import SessionContext, now
from voting.session.errors import ActionError, Code
from voting.session.states import (
    Actor,
    PollAction,
    PollState,
    ResultDisplay,
    Role,
    TransitionError,
    next_state,
)

MAX_DURATION = 24 * 3600  # a preset voting time is at most a day (seconds)
UNSET: Any = object()  # a setting left as it is
RESULT_DISPLAY_KEY = "result_display"  # meta: the session's 直接显示 / 延时显示


def session_result_display(s: Session) -> str:
    """The session's result display (延时显示 unless the chair set 直接显示)."""
    row = s.get(Meta, RESULT_DISPLAY_KEY)
    if row is not None and row.value in tuple(ResultDisplay):
        return row.value
    return ResultDisplay.DELAYED.value


def check_duration(duration: int | None) -> int | None:
    """A preset voting time in whole seconds, 1 s to a day, or None (no preset time)."""
    if duration is None:
        return None
    if type(duration) is not int or not 1 <= duration <= MAX_DURATION:
        raise ActionError(
            m.ErrorCode.BAD_MESSAGE,
            f"the voting time (duration) is whole seconds from 1 to {MAX_DURATION}, or null",
            422,
        )
    return duration


def check_result_display(value: str | None) -> str | None:
    """``immediate`` (直接显示), ``delayed`` (延时显示) or None (the session's setting)."""
    if value is None:
        return None
    try:
        return ResultDisplay(value).value
    except ValueError:
        raise ActionError(
            m.ErrorCode.BAD_MESSAGE, "result_display is immediate, delayed or null", 422
        ) from None


def transition(s: Session, poll: Poll, action: PollAction, **values: Any) -> PollState:
    """Guarded transition done by the database: UPDATE ... WHERE state = <expected>."""
    try:
        target = next_state(action, poll.state)
    except TransitionError as exc:
        raise ActionError(Code.BAD_STATE, str(exc), 409) from None
    res = s.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.state == poll.state)
        .values(state=target.value, **values)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise ActionError(Code.BAD_STATE, "the poll changed state meanwhile; try again", 409)
    poll.state = target.value
    for k, v in values.items():
        setattr(poll, k, v)
    return target


def set_message(poll_id: str, message: str) -> Callable[[Session], None]:
    """A database job: the poll's ``message`` (why it is stuck) set to ``message``."""

    def run(s: Session) -> None:
        s.execute(update(Poll).where(Poll.id == poll_id).values(message=message))

    return run


def check_ballot_form(
    kind: str | None, template: dict[str, Any], rules: dict[str, Any] | None
) -> None:
    """ActionError ``bad_template`` when an overfilled ballot of this poll could count: an
    election not on the 人大 election ballot, a form B project vote whose proofs allow more
    than N choices (tally.poll_description.ballot_form_problem; 选举法 第四十四条)."""
    from tally.poll_description import ballot_form_problem

    problem = ballot_form_problem(kind, template, rules)
    if problem is not None:
        raise ActionError(Code.BAD_TEMPLATE, problem, 422)


def check_countable_poll(
    template: dict[str, Any],
    rules: dict[str, Any] | None,
    total: int,
    *,
    opening: bool = False,
    kind: str | None = None,
) -> None:
    """ActionError ``not_countable`` (with the article) unless the rules engine can count it:
    run when a poll is saved and again when it is opened (tally.poll_description); first
    ``bad_template`` when an overfilled ballot could count (:func:`check_ballot_form`: a draft
    saved before elections had to use the election ballot is not opened either)."""
    from tally.poll_description import DescriptionError, check_countable

    check_ballot_form(kind, template, rules)
    try:
        check_countable(template, rules, total, opening=opening)
    except DescriptionError as exc:
        words = f"（{exc.article}：{exc.words}）" if exc.words else ""
        raise ActionError(Code.NOT_COUNTABLE, exc.message + words, 422) from None


class Polls:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def check_template(self, template: dict[str, Any]) -> None:
        """The template must make an election (in the group its questions need): try it with
        a throw-away key and uuid."""
        group = self.ctx.groups.for_template(template) if isinstance(template, dict) else None
        group = group or self.ctx.group
        try:
            make_election(template, uuid="1" * 14, group=group, public_key=group.g)
        except (ValueError, TypeError, KeyError) as exc:
            raise ActionError(
                Code.BAD_TEMPLATE, f"the election template is invalid: {exc}", 422
            ) from None

    def insert(
        self,
        s: Session,
        title: str,
        kind: str,
        template: dict[str, Any],
        rules: dict[str, Any] | None,
        last_press_valid: bool,
        parent_id: str | None,
        relation: str | None,
        duration: int | None = None,
        result_display: str | None = None,
    ) -> Poll:
        """A new draft poll (under ``ctx.poll_create_lock``: its number is max(seq) + 1)."""
        seq = (s.scalar(select(func.max(Poll.seq))) or 0) + 1
        poll = Poll(
            id=f"p{seq}",
            seq=seq,
            title=title[:500],
            kind=kind,
            state=PollState.DRAFT.value,
            template=json.dumps(template, ensure_ascii=False),
            rules=None if rules is None else json.dumps(rules, ensure_ascii=False),
            last_press_valid=last_press_valid,
            parent_id=parent_id,
            relation=relation,
            created_at=now(),
            message="",
            duration=duration,
            result_display=result_display,
        )
        s.add(poll)
        s.flush()
        author = Role.SECRETARIAT if relation is None else Actor.SERVER
        self.ctx.audit(s, author, "poll_create", poll.id)
        return poll

    async def create(
        self,
        title: str,
        kind: str,
        template: dict[str, Any],
        rules: dict[str, Any] | None,
        last_press_valid: bool,
        parent_id: str | None = None,
        relation: str | None = None,
        duration: int | None = None,
        result_display: str | None = None,
    ) -> dict[str, Any]:
        duration = check_duration(duration)
        result_display = check_result_display(result_display)
        check_ballot_form(kind, template, rules)
        self.check_template(template)
        check_countable_poll(template, rules, await self.ctx.db(q.deputies_total), kind=kind)

        def run(s: Session) -> dict[str, Any]:
            poll = self.insert(
                s,
                title,
                kind,
                template,
                rules,
                last_press_valid,
                parent_id,
                relation,
                duration,
                result_display,
            )
            return views.poll_json(self.ctx, s, poll)

        async with self.ctx.poll_create_lock:
            return await self.ctx.db(run)

    async def configure(
        self, poll_id: str, role: str, *, duration: Any = UNSET, result_display: Any = UNSET
    ) -> dict[str, Any]:
        """Change a poll's preset voting time (a draft only: the kiosks are told it, signed,
        when the ballots are issued) or when the hall sees its result (until it is published)."""
        if duration is not UNSET:
            duration = check_duration(duration)
        if result_display is not UNSET:
            result_display = check_result_display(result_display)

        def run(s: Session) -> dict[str, Any]:
            poll = q.poll(s, poll_id)
            values: dict[str, Any] = {}
            changes = []
            if duration is not UNSET and duration != poll.duration:
                if poll.state != PollState.DRAFT:
                    raise ActionError(
                        Code.BAD_STATE,
                        f"the voting time is set before the poll opens; it is {poll.state}",
                        409,
                    )
                values["duration"] = duration
                changes.append(f"duration={duration if duration is not None else 'none'}")
            if result_display is not UNSET and result_display != poll.result_display:
                if poll.state in (PollState.PUBLISHED, PollState.WITHDRAWN, PollState.VOID):
                    raise ActionError(
                        Code.BAD_STATE, f"the poll is {poll.state}: its result display is set", 409
                    )
                values["result_display"] = result_display
                changes.append(f"result_display={result_display or 'session'}")
            if values:
                res = s.execute(
                    update(Poll)
                    .where(Poll.id == poll.id, Poll.state == poll.state)
                    .values(**values)
                )
                if res.rowcount != 1:  # type: ignore[attr-defined]
                    raise ActionError(
                        Code.BAD_STATE, "the poll changed state meanwhile; try again", 409
                    )
                for k, v in values.items():
                    setattr(poll, k, v)
                self.ctx.audit(s, role, "poll_settings", f"{poll.id}: {', '.join(changes)}")
            return views.poll_json(self.ctx, s, poll)

        out = await self.ctx.db(run)
        self.ctx.hub.screens_changed()
        return out

    async def set_result_display(self, value: str, role: str) -> str:
        """The session's 直接显示 / 延时显示 (a poll without its own setting follows it)."""
        checked = check_result_display(value)
        if checked is None:
            raise ActionError(
                m.ErrorCode.BAD_MESSAGE, "result_display is immediate or delayed", 422
            )

        def run(s: Session) -> None:
            s.merge(Meta(key=RESULT_DISPLAY_KEY, value=checked))
            self.ctx.audit(s, role, "session_result_display", checked)

        await self.ctx.db(run)
        self.ctx.hub.screens_changed()
        return checked

    async def row(self, poll_id: str) -> Poll:
        """The poll's row (detached), or ``poll_not_found``."""
        return await self.ctx.db(lambda s: q.poll(s, poll_id))

    async def get(self, poll_id: str) -> dict[str, Any]:
        return await self.ctx.db(
            lambda s: views.poll_json(self.ctx, s, q.poll(s, poll_id, light=True))
        )

    async def all(self) -> list[dict[str, Any]]:
        def run(s: Session) -> list[dict[str, Any]]:
            return [views.poll_json(self.ctx, s, p) for p in q.polls_in_order(s, light=True)]

        return await self.ctx.db(run)
