"""Request bodies of the HTTP API, and the refusal of NUL characters at the edge."""

from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_HTTP_BODY = 4 * 1024 * 1024
NUL_REFUSED = "text must not contain NUL characters (U+0000)"
# Row ids are 32-bit INTEGER columns on PostgreSQL (64-bit on SQLite): a larger id in a path
# is refused here rather than failing in the database.
DeputyId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def has_nul(value: Any) -> bool:
    """True if a NUL character is in any string of ``value`` (nested lists, dicts, models).

    PostgreSQL text cannot hold NUL while SQLite can: such input is refused at the edge, the
    same way on both databases, before it reaches a query."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return has_nul(value.model_dump())
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nul(self) -> "_Body":
        if has_nul(self):
            raise ValueError(NUL_REFUSED)
        return self


class RosterBody(_Body):
    csv: str = Field(max_length=2 * 1024 * 1024)


class BatchCheckinBody(_Body):
    """``seats`` (a list of seat numbers) or ``delegation`` (a 代表团 of the roster): one."""

    seats: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, min_length=1, max_length=5000
    )
    delegation: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_of(self) -> "BatchCheckinBody":
        if (self.seats is None) == (self.delegation is None):
            raise ValueError("give either seats or delegation")
        return self


class EnrolBody(_Body):
    code: str = Field(max_length=64)
    device_public_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class ScrutineerBody(_Body):
    name: str = Field(min_length=1, max_length=200)


class CeremonyBody(_Body):
    threshold: int = Field(ge=0, le=100)


class PollBody(_Body):
    title: str = Field(min_length=1, max_length=500)
    kind: str = Field(pattern=r"^(motion|projects|election|confirmation|other)$")
    template: dict[str, Any]
    rules: dict[str, Any] | None = None
    last_press_valid: bool = False
    # the preset voting time in seconds (GB 50799 §6.2.2-4), from the issue of the ballots
    duration: int | None = Field(None, ge=1, le=86400, strict=True)
    # when the hall screen shows the result (§6.2.2-5); None: the session's setting
    result_display: Literal["immediate", "delayed"] | None = None


class PollSettingsBody(_Body):
    """Fields left out are not changed; ``null`` clears one (no preset time, the session's
    result display)."""

    duration: int | None = Field(None, ge=1, le=86400, strict=True)
    result_display: Literal["immediate", "delayed"] | None = None


class ResultDisplayBody(_Body):
    result_display: Literal["immediate", "delayed"]


class ManualCountBody(_Body):
    """A poll counted by show of hands or on paper (docs/protocol.md, tally.manual_count)."""

    method: str = Field(pattern=r"^(show_of_hands|paper)$")
    present: int | None = Field(default=None, ge=0, le=10**7)
    issued: int | None = Field(default=None, ge=0, le=10**7)
    received: int | None = Field(default=None, ge=0, le=10**7)
    void: int | None = Field(default=None, ge=0, le=10**7)
    totals: dict[str, Any] | None = None
    write_ins: dict[str, int] | None = Field(default=None, max_length=1000)
    ballots: list[list[str]] | None = Field(default=None, max_length=100_000)
