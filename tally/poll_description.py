"""One description of a poll → its Belenios questions and its rules entry, never written twice.

The secretariat describes a vote by its kind (a motion's title and text; a project vote's list
and how many to choose; an election's post, seats and candidates; a confirmation or removal
list). :func:`derive` turns that description into both the Belenios template the tablets show
and the poll's entry of the 选举办法 / 票决办法 the rules engine reads, by the conventions of
``tally.poll_counts`` (docs/operations.md §6). :func:`check_countable` then proves that the
pair can be counted: the rules document passes the schema and every law check
(``tally.rules.loader.load_rules``), and an empty result of that template is mapped to COUNTS
and evaluated by the rules engine, exactly as after a real tally. A poll that fails either is
refused when it is saved and again when it is opened (a template with three questions and
rules naming four candidates would otherwise fail only after the deputies voted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tally.election_ballot import MAX_INTS, ElectionLayout, free_name_chars, question_json
from tally.rules.errors import LawError, RulesError
from tally.rules.model import Level, Organ, PostType, ProjectForm, Round, WriteInPolicy

YES, NO, ABSTAIN = "赞成", "反对", "弃权"
MAX_ITEMS = 500
MAX_TEXT = 500

LEVEL_NAMES = {Level.TOWNSHIP: "乡镇", Level.COUNTY: "县（区）", Level.CITY: "设区的市"}
POST_TYPE_NAMES = {
    PostType.HEAD: "正职",
    PostType.DEPUTY: "副职",
    PostType.MEMBER: "常委会委员",
    PostType.HIGHER_DEPUTY: "上一级人大代表",
}
ORGAN_NAMES = {
    Organ.TOWNSHIP_CONGRESS: "乡镇人民代表大会（主席、副主席）",
    Organ.STANDING_COMMITTEE: "人大常委会",
    Organ.GOVERNMENT: "人民政府",
    Organ.SUPERVISORY_COMMISSION: "监察委员会",
    Organ.COURT: "人民法院",
    Organ.PROCURATORATE: "人民检察院",
    Organ.HIGHER_CONGRESS: "上一级人民代表大会",
}
ROUND_NAMES = {
    Round.REGULAR: "选举",
    Round.BY_ELECTION: "补选",
    Round.TIE_REVOTE: "再次投票",
    Round.SUPPLEMENTARY: "另行选举",
}
FORM_NAMES = {
    ProjectForm.B: "B式：最多选N项",
    ProjectForm.A: "A式：逐项赞成/反对/弃权",
    ProjectForm.C: "C式：按序号排序",
}

# The law's own words for the articles the rules engine cites (docs/shared npc-rules.md).
ARTICLE_WORDS: dict[str, str] = {
    "地方组织法 第二十七条第一款": (
        "人民代表大会常务委员会主任、秘书长，乡、民族乡、镇的人民代表大会主席，人民政府正职"
        "领导人员，监察委员会主任，人民法院院长，人民检察院检察长的候选人数一般应多一人，进行"
        "差额选举；如果提名的候选人只有一人，也可以等额选举。人民代表大会常务委员会副主任，"
        "乡、民族乡、镇的人民代表大会副主席，人民政府副职领导人员的候选人数应比应选人数多一人"
        "至三人，人民代表大会常务委员会委员的候选人数应比应选人数多十分之一至五分之一。"
    ),
    "地方组织法 第二十八条": (
        "选举采用无记名投票方式。代表对于确定的候选人，可以投赞成票，可以投反对票，可以另选"
        "其他任何代表或者选民，也可以弃权。"
    ),
    "地方组织法 第三十条": ("补选时，候选人数可以多于应选人数，也可以同应选人数相等。"),
    "选举法 第四十四条第二款": (
        "每一选票所选的人数，多于规定应选代表人数的作废，等于或者少于规定应选代表人数的有效。"
    ),
    "选举法 第三十一条第二款": (
        "由县级以上的地方各级人民代表大会选举上一级人民代表大会代表时，代表候选人的人数应多于"
        "应选代表名额五分之一至二分之一。"
    ),
}


class DescriptionError(ValueError):
    """A description that cannot make a poll, in plain Chinese; ``article`` when the law says
    no (and ``words``: the article's text, when known)."""

    def __init__(self, message: str, article: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.article = article
        self.words = ARTICLE_WORDS.get(article or "", "")


@dataclass(frozen=True)
class MotionDescription:
    title: str
    text: str = ""


@dataclass(frozen=True)
class ProjectsDescription:
    title: str
    projects: tuple[str, ...]
    select: int | None  # form A may leave it out: every project that passes is chosen
    form: ProjectForm = ProjectForm.B
    competitive: bool = True  # 差额: more candidate projects than are chosen


@dataclass(frozen=True)
class ElectionDescription:
    title: str
    post: str
    post_type: PostType
    organ: Organ
    seats: int
    candidates: tuple[str, ...]
    write_in_policy: WriteInPolicy | None = None  # None: as the organ implies
    round: Round = Round.REGULAR


@dataclass(frozen=True)
class PersonsDescription:
    """A confirmation (表决票) or a removal (罢免) vote: per person 赞成 / 反对 / 弃权."""

    title: str
    persons: tuple[tuple[str, str], ...]  # (name, post)
    removal: bool = False


Description = MotionDescription | ProjectsDescription | ElectionDescription | PersonsDescription


@dataclass(frozen=True)
class DerivedPoll:
    """What the server stores for a poll: its kind, title, Belenios template, rules document."""

    kind: str  # the server's poll kind: motion | projects | election | confirmation | other
    title: str
    template: dict[str, Any]
    rules: dict[str, Any]  # a whole rules document (session level + this poll's entry)
    homomorphic: bool = True

    @property
    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = self.rules["polls"][0]
        return entry


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise DescriptionError(f"请填写{what}")
    if len(value) > MAX_TEXT:
        raise DescriptionError(f"{what}不能超过{MAX_TEXT}字")
    return value


def _names(values: tuple[str, ...], what: str) -> list[str]:
    names = [v.strip() for v in values if v.strip()]
    if not names:
        raise DescriptionError(f"请至少填写一个{what}")
    if len(names) > MAX_ITEMS:
        raise DescriptionError(f"{what}不能超过{MAX_ITEMS}个")
    seen: set[str] = set()
    for n in names:
        if len(n) > 200:
            raise DescriptionError(f"{what}“{n[:20]}…”超过200字")
        if n in seen:
            raise DescriptionError(f"{what}“{n}”填写了两次")
        seen.add(n)
    return names


def _per_person(title: str, names: list[str]) -> list[dict[str, Any]]:
    return [{"answers": [YES, NO, ABSTAIN], "min": 1, "max": 1, "question": n} for n in names]


def anyone_may(desc: ElectionDescription) -> bool:
    """May a person who is not a deputy be written in (the rules' ``write_ins``, by default as
    the organ implies: government, supervisory commission, court, procuratorate and the higher
    congress take "其他任何代表或者选民", 地方组织法 第二十八条, 选举法 第三十三条)?"""
    from tally.rules.loader import default_write_ins

    policy = desc.write_in_policy or default_write_ins(desc.organ)
    return policy is WriteInPolicy.ANYONE


def derive(
    desc: Description,
    *,
    entry_id: str,
    level: Level = Level.TOWNSHIP,
    session_name: str = "",
    roster_max: int = 0,
    max_ints: int = MAX_INTS,
) -> DerivedPoll:
    """The template and the rules document of ``desc`` (DescriptionError if it cannot make one).

    ``roster_max`` is the largest roster number (a seat read as a number): the width of a
    write-in slot; ``max_ints`` the integers one ciphertext of the session's election group
    holds (``keys.embedding.max_values``): room for a free name where anyone may be elected
    (:func:`tally.election_ballot.free_name_chars`). Law checks are :func:`check_countable`'s
    job."""
    session = {"name": session_name[:MAX_TEXT] or "session", "level": level.value}
    if isinstance(desc, MotionDescription):
        title = _text(desc.title, "议案名称")
        text = desc.text.strip()[:4000]
        template = {
            "description": text or title,
            "name": title,
            "questions": [{"answers": [YES, NO, ABSTAIN], "min": 1, "max": 1, "question": title}],
        }
        entry: dict[str, Any] = {"id": entry_id, "kind": "motion", "title": title}
        return DerivedPoll("motion", title, template, {"session": session, "polls": [entry]})
    if isinstance(desc, ProjectsDescription):
        title = _text(desc.title, "票决名称")
        names = _names(desc.projects, "候选项目")
        if desc.select is None:
            if desc.form is not ProjectForm.A:
                raise DescriptionError("B式、C式票决应填写应选项目数")
            if desc.competitive:
                raise DescriptionError("差额票决应填写应选项目数（候选项目多于应选项目）")
        elif not 1 <= desc.select <= len(names):
            raise DescriptionError(
                f"应选项目数应在 1 到 {len(names)} 之间（候选项目 {len(names)} 个）"
            )
        if desc.competitive and desc.select is not None and desc.select >= len(names):
            raise DescriptionError(
                "差额票决要求候选项目多于应选项目："
                f"{len(names)} 个候选项目不能选出 {desc.select} 个"
            )
        chosen = f"选出{desc.select}个" if desc.select is not None else "逐项表决"
        if desc.form is ProjectForm.A:  # per project 赞成/反对/弃权 (the tablet's marks)
            questions: list[dict[str, Any]] = _per_person(title, names)
        else:  # B: choose up to N; C (ranking, paper only): the list, never opened on tablets
            top = desc.select if desc.form is ProjectForm.B else len(names)
            questions = [{"answers": names, "min": 0, "max": top, "question": "候选项目"}]
        template = {
            "description": f"从{len(names)}个候选项目中{chosen}（{FORM_NAMES[desc.form]}）",
            "name": title,
            "questions": questions,
        }
        entry = {
            "id": entry_id,
            "kind": "projects",
            "title": title,
            "form": desc.form.value,
            "projects": [{"id": str(i), "name": n} for i, n in enumerate(names, start=1)],
            "competitive": desc.competitive,
        }
        if desc.select is not None:
            entry["select"] = desc.select
        return DerivedPoll("projects", title, template, {"session": session, "polls": [entry]})
    if isinstance(desc, ElectionDescription):
        title = _text(desc.title, "选举名称")
        post = _text(desc.post, "职务")
        names = _names(desc.candidates, "候选人")
        if not 1 <= desc.seats <= 1000:
            raise DescriptionError("应选人数应在 1 到 1000 之间")
        entry = {
            "id": entry_id,
            "kind": "election",
            "title": title,
            "post": post,
            "post_type": desc.post_type.value,
            "organ": desc.organ.value,
            "seats": desc.seats,
            "candidates": [{"id": f"c{i}", "name": n} for i, n in enumerate(names, start=1)],
            "round": desc.round.value,
        }
        if desc.write_in_policy is not None:
            entry["write_ins"] = desc.write_in_policy.value
        # the 人大 election ballot, always (docs/ballots.md): one non-homomorphic question,
        # decrypted ballot by ballot after the shuffles, so that the rules engine voids exactly
        # the ballots the law voids (选举法 第四十四条第二款); 另选他人 by roster number, and by
        # name (version 2) where anyone may be elected (地方组织法 第二十八条, 选举法 第三十三条)
        if roster_max < 1:
            raise DescriptionError(
                "选举使用人大选举选票，另选他人按代表的座位号填写：请先导入代表名册"
            )
        chars = (
            free_name_chars(len(names), desc.seats, roster_max, max_ints) if anyone_may(desc) else 0
        )
        try:
            layout = ElectionLayout(tuple(names), desc.seats, roster_max, name_chars=chars)
        except ValueError as exc:
            raise DescriptionError(f"选票放不下：{exc}") from None
        by_name = "（可按座位号或姓名）" if chars else ""
        template = {
            "description": f"{post}：应选{desc.seats}名，候选人{len(names)}名，"
            f"可以另选他人{by_name}",
            "name": title,
            "questions": [question_json(layout, post)],
        }
        return DerivedPoll(
            "election", title, template, {"session": session, "polls": [entry]}, False
        )
    title = _text(desc.title, "表决名称")
    names = _names(tuple(n for n, _ in desc.persons), "人选")
    posts = {n.strip(): p.strip()[:200] for n, p in desc.persons if n.strip()}
    kind = "removal" if desc.removal else "confirmation"
    entry = {
        "id": entry_id,
        "kind": kind,
        "title": title,
        "persons": [
            {"id": f"r{i}", "name": n, "post": posts.get(n, "")}
            for i, n in enumerate(names, start=1)
        ],
    }
    template = {
        "description": title,
        "name": title,
        "questions": _per_person(
            title, [f"{n}（{posts[n]}）" if posts.get(n) else n for n in names]
        ),
    }
    server_kind = "other" if desc.removal else "confirmation"
    return DerivedPoll(server_kind, title, template, {"session": session, "polls": [entry]})


def _empty_result(template: dict[str, Any]) -> list[Any]:
    """A Belenios result of nobody voting for ``template`` (what the tally gives for 0 ballots)."""
    out: list[Any] = []
    for q in template.get("questions", []):
        if not isinstance(q, dict):
            raise DescriptionError("选票模板的问题格式不对")
        if "type" in q:  # non-homomorphic: the decrypted ballots themselves
            out.append([])
            continue
        answers = q.get("answers")
        if not isinstance(answers, list):
            raise DescriptionError("选票模板的问题缺少选项")
        out.append([0] * (len(answers) + (1 if q.get("blank") else 0)))
    return out


def _entry_of(rules: dict[str, Any]) -> dict[str, Any]:
    polls = rules.get("polls")
    if isinstance(polls, list) and polls and isinstance(polls[0], dict):
        first: dict[str, Any] = polls[0]
        return first
    return rules


def _election_words(entry: dict[str, Any]) -> str:
    """The candidate-number rule an election breaks, in Chinese ("" if it is another rule)."""
    from tally.rules.nominations import UNBOUNDED, rate_range

    if entry.get("kind") != "election":
        return ""
    try:
        post_type = PostType(entry["post_type"])
        seats = int(entry["seats"])
        n = len(entry["candidates"])
        round_ = Round(entry.get("round", "regular"))
    except (KeyError, TypeError, ValueError):
        return ""
    name = f"{POST_TYPE_NAMES[post_type]}“{entry.get('post', '')}”"
    if post_type is PostType.HEAD and seats != 1:
        return f"{name}是正职，应选人数只能是1名（现为{seats}名）。"
    if round_ in (Round.BY_ELECTION, Round.TIE_REVOTE):
        return ""
    rng = rate_range(post_type, seats, supplementary=round_ is Round.SUPPLEMENTARY)
    extra = n - seats
    if rng.minimum <= extra <= rng.maximum:
        return ""
    if rng.maximum >= UNBOUNDED:
        allowed = f"候选人应比应选人数至少多{rng.minimum}人（即至少{seats + rng.minimum}名）"
    elif rng.minimum == 0:
        allowed = (
            f"候选人数可以与应选人数相等，也可以多{rng.maximum}人"
            f"（即{seats}至{seats + rng.maximum}名）"
        )
    elif rng.minimum == rng.maximum:
        allowed = f"候选人应比应选人数多{rng.minimum}人（即{seats + rng.minimum}名）"
    else:
        allowed = (
            f"候选人应比应选人数多{rng.minimum}至{rng.maximum}人"
            f"（即{seats + rng.minimum}至{seats + rng.maximum}名）"
        )
    more = "；候选人过多时应先进行预选" if extra > rng.maximum else ""
    return f"{name}应选{seats}名，{allowed}，现在填写了{n}名{more}。"


OVERVOTE_ARTICLE = "选举法 第四十四条第二款"


def _sheet_problem(rules: dict[str, Any] | None, entry: dict[str, Any]) -> str | None:
    """An election that a 选举办法 puts on one ballot with other posts and whose overfilled
    section voids the whole ballot (``overfilled_section: sheet``): each post on a tablet is a
    ballot of its own, so that rule cannot be applied (docs/rules.md §2.1)."""
    if not entry.get("ballot"):
        return None

    def setting(name: str) -> Any:
        own = (entry.get("settings") or {}).get(name)
        return own if own is not None else ((rules or {}).get("settings") or {}).get(name)

    if setting("overfilled_section") != "sheet" or setting("election_method") not in (
        None,
        "device",
    ):
        return None  # section by section, or a vote on paper (counted from the sheets)
    return (
        "选举办法规定几个职位印在同一张选票上，其中一个职位所选人数多于应选人数的，整张选票作废"
        "（overfilled_section: sheet）；平板上每个职位是一张单独的选票，无法这样作废。"
        "请改用纸质选票（录入每张选票），或在选举办法中改为只作废该职位（section，一次投票，"
        "分别计算）"
    )


def ballot_form_problem(
    kind: str | None, template: dict[str, Any], rules: dict[str, Any] | None
) -> str | None:
    """Why ``template`` cannot hold this poll's ballots so that an overfilled one never counts
    (None when it can), in plain Chinese naming 选举法 第四十四条.

    An election (the server's ``kind`` election, or a rules entry of kind election) is held on
    the 人大 election ballot (docs/ballots.md): one non-homomorphic question, decrypted ballot
    by ballot after the shuffles, so the rules engine voids the ballots that name more people
    than seats. A per-candidate homomorphic layout cannot: its proofs bound each candidate's
    answer, not the 赞成 across candidates, and a modified tablet's overvote would count. A
    project vote choosing at most N (form B) is void when it chooses more (by analogy, docs/
    rules.md): its one homomorphic question's proofs must bound the choices by N (``max`` ≤
    N), so the overvote cannot be cast at all."""
    from tally.poll_counts import election_layout

    entry = _entry_of(rules) if rules is not None else {}
    if kind == "election" or entry.get("kind") == "election":
        try:
            layout = election_layout(template)
        except (ValueError, TypeError, AttributeError) as exc:
            return f"人大选举选票的格式不对：{exc}"
        if layout is not None and rules is None:
            return (
                "选举应附选举办法（规则）：由规则引擎逐张认定选票是否有效，所选人数多于应选人数的"
                f"作废（{OVERVOTE_ARTICLE}）；没有规则就无人认定作废票"
            )
        if layout is not None and layout.name_chars and _deputies_only(entry):
            return (
                "这个职务只能从本级人大代表中选出（地方组织法 第十八条、第四十七条），"
                "另选他人只能按座位号填写：选票不能留填写姓名的位置（版本2），"
                "请用版本1的人大选举选票"
            )
        if layout is not None:
            return _sheet_problem(rules, entry)
        return (
            "选举应使用人大选举选票（一个非同态问题，投票结束后经洗牌逐张解密，由规则引擎计票，"
            "docs/ballots.md）：“每一选票所选的人数，多于规定应选代表人数的作废”（"
            f"{OVERVOTE_ARTICLE}），逐个候选人一问的同态选票无法认定这样的选票作废，"
            "被改动的表决器多投的赞成票会被计入"
        )
    if entry.get("kind") == "projects" and entry.get("form") == ProjectForm.B.value:
        select = entry.get("select")
        questions = template.get("questions")
        if not isinstance(select, int) or not isinstance(questions, list) or len(questions) != 1:
            return None  # the countable check names what does not fit
        q = questions[0]
        top = q.get("max") if isinstance(q, dict) else None
        if isinstance(top, int) and top > select:
            return (
                f"B式票决最多选{select}项：选票的问题最多可选{top}项，多选的选票无法被排除。"
                f"请把选票的“最多可选”设为{select}（多于应选项目数的选票作废，参照"
                f"{OVERVOTE_ARTICLE}）"
            )
    return None


def _deputies_only(entry: dict[str, Any]) -> bool:
    """Does this rules entry say only deputies may be written in (its ``write_ins``, else its
    organ's default)? False when it cannot tell (the rules engine's loader names the fault)."""
    from tally.rules.loader import default_write_ins

    if entry.get("write_ins") is not None:
        return bool(entry["write_ins"] == WriteInPolicy.DEPUTIES.value)
    post_type = entry.get("post_type")
    try:
        if "organ" in entry:
            organ = Organ(entry["organ"])
        elif post_type in (PostType.MEMBER.value, "委员"):
            organ = Organ.STANDING_COMMITTEE
        else:
            return False
    except ValueError:
        return False
    return default_write_ins(organ) is WriteInPolicy.DEPUTIES


PAPER_ONLY = (
    "C式（按序号排序）票决不能在表决器上进行：表决器还不能排序。请用纸质选票票决，"
    "然后在此事项的页面“录入举手表决或纸质选票结果”中逐张录入收回的选票"
)


def paper_only(rules: dict[str, Any] | None) -> bool:
    """Is this a poll the tablets cannot hold (a project ranking, form C)?"""
    if rules is None:
        return False
    entry = _entry_of(rules)
    return entry.get("kind") == "projects" and entry.get("form") == ProjectForm.C.value


def check_countable(
    template: dict[str, Any],
    rules: dict[str, Any] | None,
    total: int = 1,
    *,
    opening: bool = False,
) -> None:
    """Refuse (DescriptionError) a template and rules that the rules engine could not count.

    The rules pass the schema and the law (LawError's article kept); an empty tally of this
    template is mapped to COUNTS and evaluated by ``tally.poll_outcome.evaluate_poll`` as after a
    close. No rules: nothing to evaluate (the poll gets no outcome). A ranking (form C) is
    counted from paper ballots only (tally.manual_count): it is checked that way, and refused
    when ``opening`` it on the tablets."""
    if rules is None:
        return
    if paper_only(rules):
        if opening:
            raise DescriptionError(PAPER_ONLY)
        _check_paper(rules, total)
        return
    from tally.poll_counts import rules_document
    from tally.poll_outcome import evaluate_poll
    from tally.rules.loader import load_rules

    counts = {
        "result": _empty_result(template),
        "total": max(1, total),
        "present": max(1, total),
        "issued": 0,
        "received": 0,
    }
    try:
        doc, _entry = rules_document(rules, counts)
        load_rules(doc)
    except LawError as exc:
        words = _election_words(_entry_of(rules))
        raise DescriptionError(f"不符合法律规定：{words or exc}", exc.article) from None
    except (RulesError, ValueError, KeyError, TypeError) as exc:
        raise DescriptionError(f"选举办法（规则）有误：{exc}") from None
    try:
        evaluate_poll(rules, template, counts, {})
    except (RulesError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DescriptionError(f"选票与选举办法不一致，这样的投票无法计票：{exc}") from None


def description_of(poll: Any) -> Description:
    """The description of one poll of a loaded rules document (``tally.rules.model``): the
    session's 选举办法 / 票决办法 imported once, its ballots derived from it (an election's is
    the 人大 election ballot, with 另选他人 slots)."""
    from tally.rules.model import (
        ConfirmationPoll,
        ElectionPoll,
        MotionPoll,
        ProjectPoll,
        RemovalPoll,
    )

    if isinstance(poll, MotionPoll):
        return MotionDescription(poll.title)
    if isinstance(poll, ProjectPoll):
        names = tuple(p.name for p in poll.projects)
        return ProjectsDescription(poll.title, names, poll.select, poll.form, poll.competitive)
    if isinstance(poll, ElectionPoll):
        return ElectionDescription(
            poll.title,
            poll.post,
            poll.post_type,
            poll.organ,
            poll.seats,
            tuple(c.name for c in poll.candidates),
            write_in_policy=poll.write_ins,
            round=poll.round,
        )
    if isinstance(poll, ConfirmationPoll | RemovalPoll):
        return PersonsDescription(
            poll.title,
            tuple((p.name, p.post) for p in poll.persons),
            removal=isinstance(poll, RemovalPoll),
        )
    raise DescriptionError("选举办法中有无法识别的表决种类")


def imported_polls(
    document: dict[str, Any], *, roster_max: int = 0, total: int = 1, max_ints: int = MAX_INTS
) -> list[DerivedPoll]:
    """Every poll of a rules document (选举办法 / 票决办法, parsed YAML or JSON), each with its
    template derived from its entry and, as its rules, the whole document naming that entry
    (so the document's settings hold). The document is checked against the law first; each
    poll must then be countable. DescriptionError (with the article) otherwise."""
    from tally.rules.loader import load_rules

    try:
        rules = load_rules(document)
    except LawError as exc:
        raise DescriptionError(f"选举办法不符合法律规定：{exc}", exc.article) from None
    except RulesError as exc:
        raise DescriptionError(f"选举办法有误：{exc}") from None
    if not rules.polls:
        raise DescriptionError("选举办法中没有表决事项（polls）")
    out = []
    for poll in rules.polls:
        desc = description_of(poll)
        derived = derive(
            desc,
            entry_id=poll.id,
            level=rules.level,
            session_name=rules.name,
            roster_max=roster_max,
            max_ints=max_ints,
        )
        doc = dict(document, poll=poll.id)
        check_countable(derived.template, doc, total)
        out.append(
            DerivedPoll(derived.kind, derived.title, derived.template, doc, derived.homomorphic)
        )
    return out


def _check_paper(rules: dict[str, Any], total: int) -> None:
    """The law checks of a paper-only poll, and its empty paper count evaluated."""
    from tally.manual_count import evaluate_manual
    from tally.poll_counts import rules_document
    from tally.rules.loader import load_rules

    counts: dict[str, Any] = {
        "method": "paper",
        "total": max(1, total),
        "present": max(1, total),
        "issued": 0,
        "received": 0,
        "ballots": [],
    }
    try:
        doc, _entry = rules_document(rules, counts)
        load_rules(doc)
        evaluate_manual(rules, counts)
    except LawError as exc:
        raise DescriptionError(f"不符合法律规定：{exc}", exc.article) from None
    except (RulesError, ValueError, KeyError, TypeError) as exc:
        raise DescriptionError(f"票决办法（规则）有误：{exc}") from None
