"""The COUNTS document: roster figures and decrypted totals or individual ballots of one poll.

Format (JSON or YAML; see docs/rules.md)::

    poll: ID                      # the poll of the rules document
    total: 45                     # 实有代表数 at the vote (default: session.total_deputies)
    present: 44                   # 实到
    issued: 44                    # 发出选票 / keypads enabled
    returned: 44                  # 收回选票 / ballots cast
    totals: {...}                 # totals per option ({yes, no, abstain[, blank]} for a
                                  # motion; {ID: {yes, no, abstain[, unmarked]}} otherwise), or
    ballots: [...]                # individual decrypted ballots (in shuffled order)
    write_in_totals: {ID: n}      # (elections with totals only) votes for written-in persons
    void: n                       # (elections with totals only) ballots already known void
    roster: [numbers]             # deputies' roster numbers (checks deputy-only write-ins)
    names: {ID: name}             # display names of written-in persons
    signatories: {chief: name, scrutineers: [names], counters: [names]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tally.rules.ballots import MARK_CODES, ElectionBallot, Mark, WriteIn
from tally.rules.documents import read_document
from tally.rules.errors import RulesError
from tally.rules.model import person_key

MAX_ITEMS = 1_000_000


@dataclass(frozen=True)
class OptionTotals:
    yes: int = 0
    no: int = 0
    abstain: int = 0
    unmarked: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain + self.unmarked


@dataclass(frozen=True)
class Signatories:
    chief: str = ""  # 总监票人
    scrutineers: tuple[str, ...] = ()  # 监票人
    counters: tuple[str, ...] = ()  # 计票人


ProjectBallot = tuple[int, ...]  # form B: chosen project indices; form C: indices in rank order
Ballot = ElectionBallot | ProjectBallot


@dataclass(frozen=True)
class Counts:
    poll: str
    total: int | None
    present: int
    issued: int
    returned: int
    totals: Mapping[str, OptionTotals] | None = None
    ballots: tuple[Ballot, ...] | None = None
    write_in_totals: Mapping[str, int] = field(default_factory=dict)
    void: int = 0
    blank: int = 0  # motions: ballots cast with no choice (a blank ballot, if allowed)
    roster: frozenset[str] | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    signatories: Signatories = field(default_factory=Signatories)


def totals_by_id(
    totals: Mapping[str, OptionTotals] | None, ids: list[str]
) -> dict[str, OptionTotals] | None:
    """``totals`` keyed by the rules' own ids, matching ids of digits as numbers ("007" is
    "7"); None unless they name exactly ``ids``, each once."""
    if totals is None:
        return None
    given = {person_key(k): v for k, v in totals.items()}
    wanted = {person_key(i): i for i in ids}
    if len(given) != len(totals) or set(given) != set(wanted):
        return None
    return {wanted[k]: v for k, v in given.items()}


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        raise RulesError(f"COUNTS {where}: expected a whole number from 0, got {value!r}")
    return value


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RulesError(f"COUNTS {where}: expected an object")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise RulesError(f"COUNTS {where}: expected a list")
    return value


_OPTION_KEYS = {"yes", "no", "abstain", "unmarked"}


def _option(value: object, where: str) -> OptionTotals:
    if not isinstance(value, Mapping):
        raise RulesError(
            f"COUNTS {where}: expected {{yes, no, abstain[, unmarked]}} as whole numbers, "
            f"got {value!r}"
        )
    m = value
    unknown = set(m) - _OPTION_KEYS
    if unknown:
        raise RulesError(f"COUNTS {where}: unknown key(s) {', '.join(sorted(unknown))}")
    return OptionTotals(**{k: _count(v, f"{where}.{k}") for k, v in m.items()})


def _election_ballot(value: object, where: str) -> ElectionBallot:
    m = _mapping(value, where)
    unknown = set(m) - {"marks", "write_ins", "problems"}
    if unknown:
        raise RulesError(f"COUNTS {where}: unknown key(s) {', '.join(sorted(unknown))}")
    problems = tuple(str(p) for p in _list(m.get("problems", []), f"{where}.problems"))
    if problems:
        return ElectionBallot((), (), problems)  # void whatever it holds
    try:
        marks = tuple(
            MARK_CODES[x] if isinstance(x, int) and not isinstance(x, bool) else Mark(x)
            for x in _list(m.get("marks"), f"{where}.marks")
        )
    except (ValueError, KeyError):
        raise RulesError(
            f"COUNTS {where}.marks: each mark is yes, no, abstain or unmarked (or 1, 2, 3, 0)"
        ) from None
    entries: list[str | WriteIn] = []
    for i, w in enumerate(_list(m.get("write_ins", []), f"{where}.write_ins")):
        if w is None or w == "":
            continue  # an empty slot
        if isinstance(w, str) and not w.strip():
            raise RulesError(f"COUNTS {where}.write_ins[{i}]: a blank name ({w!r}) names nobody")
        if isinstance(w, str):
            entries.append(w)
        elif isinstance(w, int) and not isinstance(w, bool) and w > 0:
            entries.append(str(w))  # a roster number
        elif isinstance(w, Mapping) and isinstance(w.get("person"), str) and w["person"].strip():
            r = w.get("replaces")
            entries.append(WriteIn(w["person"], None if r is None else _count(r, where)))
        else:
            raise RulesError(
                f"COUNTS {where}.write_ins[{i}]: expected a roster number (a whole number from "
                f"1), a person identifier, or an empty slot (null), got {w!r}"
            )
    return ElectionBallot(marks, tuple(entries))


def _person_id(value: object, where: str) -> str:
    text = str(value)
    if not text.strip():
        raise RulesError(f"COUNTS {where}: a blank person identifier ({text!r}) names nobody")
    return person_key(text)


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"COUNTS {where}: a name must be text that is not blank, got {value!r}")
    return value


def _project_ballot(value: object, where: str) -> ProjectBallot:
    return tuple(_count(x, where) for x in _list(value, where))


def parse_counts(data: object) -> Counts:
    """Check and convert a parsed COUNTS document; the kind of ballot is decided by its shape
    (objects: election ballots; lists of numbers: project ballots, forms B and C)."""
    m = _mapping(data, "(top level)")
    known = {
        "poll",
        "total",
        "present",
        "issued",
        "returned",
        "totals",
        "ballots",
        "write_in_totals",
        "void",
        "roster",
        "names",
        "signatories",
    }
    unknown = set(m) - known
    if unknown:
        raise RulesError(f"COUNTS: unknown key(s) {', '.join(sorted(unknown))}")
    if not isinstance(m.get("poll"), str):
        raise RulesError("COUNTS: 'poll' (the poll's id) is required")
    for key in ("present", "issued", "returned"):
        if key not in m:
            raise RulesError(f"COUNTS: {key!r} is required")
    if ("totals" in m) == ("ballots" in m):
        raise RulesError("COUNTS: give exactly one of 'totals' or 'ballots'")
    totals: dict[str, OptionTotals] | None = None
    blank = 0
    if "totals" in m:
        raw = _mapping(m["totals"], "totals")
        scalars = raw and not any(isinstance(v, Mapping) for v in raw.values())
        if scalars and set(raw) & (_OPTION_KEYS | {"blank"}):
            # a motion's {yes, no, abstain[, blank]}: each a whole number
            blank = _count(raw.get("blank", 0), "totals.blank")
            flat = {k: v for k, v in raw.items() if k != "blank"}
            totals = {"": _option(flat, "totals")}
        else:
            totals = {str(k): _option(v, f"totals.{k}") for k, v in raw.items()}
    ballots: tuple[Ballot, ...] | None = None
    if "ballots" in m:
        items = _list(m["ballots"], "ballots")
        ballots = tuple(
            _election_ballot(b, f"ballots[{i}]")
            if isinstance(b, Mapping)
            else _project_ballot(b, f"ballots[{i}]")
            for i, b in enumerate(items)
        )
    roster = None
    if "roster" in m:
        roster = frozenset(person_key(str(x)) for x in _list(m["roster"], "roster"))
    sig = _mapping(m.get("signatories", {}), "signatories")
    signatories = Signatories(
        chief=str(sig.get("chief", "")),
        scrutineers=tuple(str(x) for x in _list(sig.get("scrutineers", []), "scrutineers")),
        counters=tuple(str(x) for x in _list(sig.get("counters", []), "counters")),
    )
    return Counts(
        poll=m["poll"],
        total=None if m.get("total") is None else _count(m["total"], "total"),
        present=_count(m["present"], "present"),
        issued=_count(m["issued"], "issued"),
        returned=_count(m["returned"], "returned"),
        totals=totals,
        ballots=ballots,
        write_in_totals={
            _person_id(k, "write_in_totals"): _count(v, f"write_in_totals.{k}")
            for k, v in _mapping(m.get("write_in_totals", {}), "write_in_totals").items()
        },
        void=_count(m.get("void", 0), "void"),
        blank=blank,
        roster=roster,
        names={
            _person_id(k, "names"): _name(v, f"names.{k}")
            for k, v in _mapping(m.get("names", {}), "names").items()
        },
        signatories=signatories,
    )


def load_counts_file(path: str | Path) -> Counts:
    return parse_counts(read_document(path, "COUNTS"))
