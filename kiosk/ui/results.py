"""A published result, as the tablet shows it (pure; from the server-signed result statement).

The statement's payload (checked by the kiosk against the pinned server key) holds the poll's
figures and Belenios counts (``counts``: total, present, issued, received, result) and the
rules engine's ``outcome`` (verdict and one item per motion, candidate, person or project).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tally.rules.result import NEXT_LABELS, STATUS_LABELS, VERDICT_LABELS, ItemStatus, NextKind
from tally.rules.result import Verdict as _Verdict

_STATUS = {str(k): v for k, v in STATUS_LABELS.items()}
_VERDICT = {str(k): v for k, v in VERDICT_LABELS.items()}
_NEXT = {str(k): v for k, v in NEXT_LABELS.items()}
COLUMN_WORDS = {"election": "候选人", "confirmation": "人选", "removal": "人选", "motion": "议案"}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def result_view(
    form: Mapping[str, Any] | None, payload: Mapping[str, Any], title: str
) -> dict[str, Any]:
    """``{"title", "verdict", "figures": [[label, n]], "rows": [{"item", "yes", "no",
    "abstain", "status"}], "next": [...]}`` for the page."""
    counts = payload.get("counts") if isinstance(payload.get("counts"), Mapping) else {}
    outcome = payload.get("outcome") if isinstance(payload.get("outcome"), Mapping) else {}
    assert isinstance(counts, Mapping) and isinstance(outcome, Mapping)
    issued = _int(outcome.get("issued", counts.get("issued")))
    returned = _int(outcome.get("returned", counts.get("received")))
    figures = [
        ["应到", _int(counts.get("total"))],
        ["实到", _int(outcome.get("present", counts.get("present")))],
        ["发出", issued],
        ["收回", returned],
    ]
    rows: list[dict[str, Any]] = []
    items = outcome.get("items") if isinstance(outcome.get("items"), list) else None
    if items:
        for item in items:
            if not isinstance(item, Mapping):
                continue
            rows.append(
                {
                    "item": str(item.get("name", "")),
                    "yes": _int(item.get("yes")),
                    "no": _int(item.get("no")),
                    "abstain": _int(item.get("abstain")),
                    "status": _STATUS.get(str(item.get("status")), ""),
                    "good": str(item.get("status"))
                    in (ItemStatus.PASSED, ItemStatus.ELECTED, ItemStatus.SELECTED),
                    "write_in": bool(item.get("write_in")),
                }
            )
    else:
        rows = _rows_from_counts(form, counts.get("result"), title)
    verdict = str(outcome.get("verdict", "")) if outcome else ""
    nxt = []
    for n in outcome.get("next_polls") or [] if outcome else []:
        if isinstance(n, Mapping) and str(n.get("kind")) != NextKind.PRESIDIUM:
            nxt.append(_NEXT.get(str(n.get("kind")), ""))
        elif isinstance(n, Mapping):
            nxt.append(_NEXT.get(str(n.get("kind")), "由主席团决定"))
    kind = str(form.get("kind", "")) if form is not None else ""
    return {
        "title": title,
        "item_word": COLUMN_WORDS.get(kind, "项目"),
        "verdict": "" if verdict in ("", _Verdict.VALID) else _VERDICT.get(verdict, "无效"),
        "figures": figures,
        "rows": rows,
        "next": [x for x in nxt if x],
        "unpressed": issued - returned if issued is not None and returned is not None else None,
    }


def _rows_from_counts(
    form: Mapping[str, Any] | None, result: Any, title: str
) -> list[dict[str, Any]]:
    """Rows from the Belenios counts alone (a poll without rules has no outcome items)."""
    if not isinstance(result, list) or form is None:
        return []
    rows: list[dict[str, Any]] = []
    for section in form.get("sections", []):
        idx = section["questions"]
        if section["type"] == "election":
            continue  # individual ballots: only the rules engine counts them
        for k, qi in enumerate(idx):
            if qi >= len(result) or not isinstance(result[qi], list):
                continue
            values = [v for v in result[qi] if _int(v) is not None]
            if section.get("blank") is True or (
                isinstance(section.get("blank"), list) and section["blank"][k]
            ):
                values = values[1:]
            if section["type"] == "choose":
                for item, n in zip(section["items"], values, strict=False):
                    rows.append({"item": item, "yes": n, "no": None, "abstain": None})
            else:
                name = section["items"][k] if section["type"] == "marks" else title
                y, n, a = ([*values, None, None, None])[:3]
                rows.append({"item": name, "yes": y, "no": n, "abstain": a})
    for row in rows:
        row.setdefault("status", "")
        row.setdefault("good", False)
        row.setdefault("write_in", False)
    return rows
