"""The scripted town session of ``renda demo``: roster, attendance and every deputy's choices.

Pure functions, so that the script's promises (a motion that passes, ten projects chosen, a tie
across the last seat of the 副镇长 election, a deputy written in, a tie re-vote that settles it)
are tested without a server. Choices are in the kiosk's language (:mod:`kiosk.choices`): a label
per question, a list of labels, a 人大 election ballot's marks and write-ins, or 未按.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tally.election_ballot import ElectionLayout, free_name_chars, question_json

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = (
    "建国", "秀英", "志强", "丽华", "国庆", "海燕", "文斌", "桂兰", "永福", "春梅",
    "德明", "玉珍", "振华", "淑芬", "红军", "晓燕", "明亮", "金凤", "立新", "美玲",
)  # fmt: skip
GROUPS = ("第一代表组", "第二代表组", "第三代表组", "第四代表组", "第五代表组")

MOTION_TITLE = "关于《青石镇2026年财政预算草案》的决议"
PROJECTS_TITLE = "青石镇2026年民生实事项目票决"
PROJECTS = (
    "老旧小区改造", "镇卫生院扩建", "农村道路硬化", "中心小学食堂", "自来水管网改造",
    "养老服务中心", "垃圾分类站点", "农贸市场改造", "河道综合整治", "路灯亮化工程",
    "文化广场建设", "公交站台改造",
)  # fmt: skip
PROJECTS_SELECT = 10
ELECTION_TITLE = "选举青石镇副镇长"
CANDIDATES = ("陈立新", "林晓燕", "周振华", "吴海燕")
SEATS = 3
POST = "副镇长"
WRITE_IN_SEAT = 5  # the deputy one ballot writes in (另选他人; seat 5 is always present)
WRITE_IN = "另选他人"
MIN_DEPUTIES = 9  # fewer cannot stage a tie of two majorities across the last of 3 seats
YES, NO, ABSTAIN, SKIP = "赞成", "反对", "弃权", "未按"


@dataclass(frozen=True)
class Deputy:
    name: str
    delegation: str
    seat: str


def roster(n: int) -> list[Deputy]:
    """``n`` deputies with distinct Chinese names, in five delegations."""
    out = []
    for i in range(n):
        surname = SURNAMES[i % len(SURNAMES)]
        given = GIVEN[(i // len(SURNAMES) + 7 * (i % len(SURNAMES))) % len(GIVEN)]
        name = surname + given
        if i >= len(SURNAMES) * len(GIVEN):
            name += str(i)
        out.append(Deputy(name, GROUPS[i % len(GROUPS)], str(i + 1)))
    return out


def roster_csv(deputies: list[Deputy]) -> str:
    lines = ["name,delegation,seat"] + [f"{d.name},{d.delegation},{d.seat}" for d in deputies]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Attendance:
    on_leave: tuple[int, ...]  # indexes into the roster
    absent: tuple[int, ...]

    def present(self, n: int) -> list[int]:
        away = set(self.on_leave) | set(self.absent)
        return [i for i in range(n) if i not in away]


def attendance(n: int) -> Attendance:
    """A few deputies on leave (请假) and one absent (缺席), keeping the quorum (≥ 2/3)."""
    if n < MIN_DEPUTIES:
        raise ValueError(f"the demo needs at least {MIN_DEPUTIES} deputies")
    leave = 2 if n >= 20 else 0
    on_leave = tuple(range(n - 1 - leave, n - 1))
    absent = (n - 1,)
    present = n - leave - 1
    if present * 3 < n * 2:
        raise ValueError("the attendance plan breaks the quorum")
    return Attendance(on_leave, absent)


def majority(total: int) -> int:
    """Smallest count that is more than half of ``total`` (全体代表的过半数)."""
    return total // 2 + 1


def motion_choices(voters: int, total: int) -> list[Any]:
    """Most 赞成, a few 反对 and 弃权, one 未按; passes (赞成 × 2 > total)."""
    no = max(1, voters // 20)
    abstain = max(1, voters // 40)
    skip = 1
    yes = voters - no - abstain - skip
    if yes * 2 <= total:
        raise ValueError("too few deputies present for the motion to pass")
    return [YES] * yes + [NO] * no + [ABSTAIN] * abstain + [SKIP] * skip


def project_choices(voters: int) -> list[Any]:
    """Each deputy chooses 10 of the 12 projects: the first six by everyone, four more of the
    next six — projects 7–10 are left out by a quarter each, 11–12 by half each."""
    out: list[Any] = []
    for i in range(voters):
        left_out = {len(PROJECTS) - 1 - (i % 2), 9 - (i % 4)}
        out.append([p for j, p in enumerate(PROJECTS) if j not in left_out])
    return out


def _targets(voters: int, total: int) -> list[int]:
    """赞成 counts for the four candidates: decreasing, the last two equal and a majority; one
    place of the SEATS × voters left free for a write-in when the roster allows it (all but
    10 deputies: 9 voters cannot give 8 + 7 + 6 + 6 赞成 and a write-in)."""
    mj = majority(total)
    step = max(1, voters // 10)

    def extra(spare: int) -> int:
        # 4 t + 3 step <= SEATS * voters - spare, with t >= mj (at most SEATS names a ballot)
        return min((SEATS * voters - spare - 3 * step - 4 * mj) // 4, voters - mj - 2 * step)

    e = extra(1) if extra(1) >= 0 else extra(0)
    if e < 0:
        raise ValueError("too few deputies present for the tie the demo stages")
    t = mj + e
    return [t + 2 * step, t + step, t, t]


def election_choices(voters: int, total: int) -> list[dict[str, Any]]:
    """人大 election ballots (a mark per candidate, write-ins by seat number), at most 3 names
    each, giving 赞成 counts that tie the last two candidates across the last seat (both a
    majority); the last ballot with a place left writes in deputy WRITE_IN_SEAT with a 反对
    (the pairing rule: 代表法 第十七条)."""
    need = dict(zip(CANDIDATES, _targets(voters, total), strict=True))
    out: list[dict[str, Any]] = []
    for i in range(voters):
        remaining_voters = voters - i
        # Candidates who need every remaining voter first, then the neediest.
        order = sorted(CANDIDATES, key=lambda c: (-(need[c] >= remaining_voters), -need[c]))
        chosen = [c for c in order if need[c] > 0][:SEATS]
        ballot: dict[str, Any] = {}
        for j, c in enumerate(CANDIDATES):
            if c in chosen:
                ballot[c] = YES
                need[c] -= 1
            else:
                ballot[c] = NO if (i + j) % 3 else ABSTAIN
        out.append(ballot)
    if any(need.values()):
        raise ValueError("could not stage the election counts")
    spare = [b for b in out if sum(v == YES for v in b.values()) < SEATS]
    if spare:
        ballot = spare[-1]
        against = next(c for c in CANDIDATES if ballot[c] != YES)
        ballot[against] = NO
        ballot[WRITE_IN] = [WRITE_IN_SEAT]
    return out


def revote_choices(voters: int, total: int, tied: list[str]) -> list[dict[str, str]]:
    """Tie re-vote for one seat between the tied candidates: the first gets a clear majority."""
    if len(tied) < 2:
        raise ValueError("a tie re-vote needs two candidates")
    first = max(majority(total), (voters * 3 + 4) // 5)
    if first > voters:
        raise ValueError("too few deputies present for the re-vote")
    out: list[dict[str, str]] = []
    for i in range(voters):
        ballot = {c: NO for c in tied}
        if i < first:
            ballot[tied[0]] = YES
        elif i < voters - 1:
            ballot[tied[1]] = YES
        else:
            ballot = {c: ABSTAIN for c in tied}
        out.append(ballot)
    return out


# -- Belenios templates of the session's polls (what the secretariat sends) ------------------


def motion_template(title: str) -> dict[str, Any]:
    return {
        "description": title,
        "name": title,
        "questions": [{"answers": [YES, NO, ABSTAIN], "min": 1, "max": 1, "question": "表决意见"}],
    }


def projects_template() -> dict[str, Any]:
    return {
        "description": f"从{len(PROJECTS)}个候选项目中选出{PROJECTS_SELECT}个",
        "name": PROJECTS_TITLE,
        "questions": [
            {
                "answers": list(PROJECTS),
                "min": 0,
                "max": PROJECTS_SELECT,
                "question": "候选项目",
            }
        ],
    }


def election_template(
    title: str, candidates: list[str] | tuple[str, ...], roster_max: int, seats: int = SEATS
) -> dict[str, Any]:
    """The 人大 election ballot (docs/ballots.md): one non-homomorphic question, write-ins by
    seat number up to ``roster_max`` and, the post being in the government (anyone may be
    elected, 地方组织法 第二十八条), by free name (version 2), as the server makes it."""
    chars = free_name_chars(len(candidates), seats, roster_max)
    layout = ElectionLayout(tuple(candidates), seats, roster_max, name_chars=chars)
    return {
        "description": f"{POST}：应选{seats}名，候选人{len(candidates)}名，可以另选他人",
        "name": title,
        "questions": [question_json(layout, POST)],
    }
