"""SQLAlchemy 2 models of the session database (schema created by the Alembic migrations).

Deliberately separate: ``issuances`` (who was issued a ballot, by deputy) and ``credentials``
(which public credentials exist, by value, inserted sorted in one statement when collection
ends). No table has both a deputy and a credential, a ballot or a choice.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Session-wide settings: name, group, server trustee public key, trustees.json, …"""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Deputy(Base):
    __tablename__ = "deputies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    delegation: Mapped[str] = mapped_column(String(200))
    seat: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of the one-time enrolment code (voting.session.codes); never the code
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_used: Mapped[bool] = mapped_column(Boolean, default=False)
    # 'absent' | 'present' | 'leave'
    attendance: Mapped[str] = mapped_column(String(16), default="absent")


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    enrolled_at: Mapped[str] = mapped_column(String(40))


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    trustee_index: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)


class Ceremony(Base):
    __tablename__ = "ceremonies"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # pending | step1 | step3 | step5 | done | failed
    state: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON: certs, polynomials, ...
    trustees: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")


class Poll(Base):
    __tablename__ = "polls"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    # draft | collecting | open | closed | tallied | published | withdrawn | void
    state: Mapped[str] = mapped_column(String(16), default="draft")
    template: Mapped[str] = mapped_column(Text)
    rules: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_press_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("polls.id"), nullable=True)
    relation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    uuid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    group_name: Mapped[str | None] = mapped_column(String(32), nullable=True)
    election: Mapped[str | None] = mapped_column(Text, nullable=True)
    trustees: Mapped[str | None] = mapped_column(Text, nullable=True)
    public_credentials: Mapped[str | None] = mapped_column(Text, nullable=True)
    encrypted_tally: Mapped[str | None] = mapped_column(Text, nullable=True)
    # non-homomorphic polls: the tally with the last shuffle's rows (what the trustees decrypt)
    decrypt_tally: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    counts: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # the preset voting time in seconds (GB 50799 §6.2.2-4) and, once ballots are issued, the
    # moment it ends (signed in the poll's setup); who closed it: chair | timer
    duration: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # when the hall screen shows the result (§6.2.2-5): immediate | delayed | None (session's)
    result_display: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Voter(Base):
    """The frozen voter list of a poll: present, enrolled deputies when it opened."""

    __tablename__ = "voters"
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), primary_key=True)


class Issuance(Base):
    """发出选票: who was issued a ballot (never which credential)."""

    __tablename__ = "issuances"
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), primary_key=True)
    seat: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)


class Credential(Base):
    """Which public credentials exist for a poll (no deputy)."""

    __tablename__ = "credentials"
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    credential: Mapped[str] = mapped_column(String(1100), primary_key=True)


class BallotRow(Base):
    """Every accepted ballot, in arrival order (the archive's order)."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("poll_id", "tracker", name="uq_ballot_tracker"),
        ForeignKeyConstraint(
            ["poll_id", "credential"], ["credentials.poll_id", "credentials.credential"]
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), index=True)
    tracker: Mapped[str] = mapped_column(String(64))
    credential: Mapped[str] = mapped_column(String(1100))
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[str] = mapped_column(String(40))
    event_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)


class Vote(Base):
    """The ballot that counts for each credential (unique per poll and credential)."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("poll_id", "credential", name="uq_vote_credential"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"))
    credential: Mapped[str] = mapped_column(String(1100))
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"))


class PartialDecryptionRow(Base):
    __tablename__ = "partial_decryptions"
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    trustee_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    raw: Mapped[str] = mapped_column(Text)


class AuditLog(Base):
    """Operational log: who (role) did what to which poll/deputy — never a credential."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")


class ShuffleRow(Base):
    """A verifiable shuffle of a non-homomorphic poll's ciphertexts, in chain order."""

    __tablename__ = "shuffles"
    __table_args__ = (UniqueConstraint("poll_id", "owner", name="uq_shuffle_owner"),)
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[int] = mapped_column(Integer)
    raw: Mapped[str] = mapped_column(Text)


class ReportSignatureRow(Base):
    """A scrutineer's signature of a poll's count report (by trustee id; never a deputy)."""

    __tablename__ = "report_signatures"
    poll_id: Mapped[str] = mapped_column(ForeignKey("polls.id"), primary_key=True)
    trustee_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(String(40))


class PollListVersion(Base):
    """One version of the server's signed list of polls (tally.poll_list), appended at every
    change of a poll and never changed: ``statement`` names the hash of version ``seq - 1``."""

    __tablename__ = "poll_lists"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    statement: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[str] = mapped_column(String(40))
