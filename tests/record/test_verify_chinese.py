"""``renda verify`` refuses in Chinese first: one sentence naming the poll's archive, the ballot
or event, then what is wrong, with the checker's English after it (tally.verify_words)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keys.group import TEST_256, to_str
from tally.archive import read_archive
from tally.json_format import compact
from tally.simulate import simulate
from tally.verify_words import UNKNOWN, bilingual, chinese
from tests.record.builder import (
    Built,
    Step,
    ballot_steps,
    build,
    edit_json,
    step_index,
    steps_of,
    write_steps,
)
from tests.record.test_tamper import VOTES
from voting.cli import main


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build(tmp_path, VOTES)


def _refusal(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """(the FAIL line, the REFUSED line) of renda verify."""
    assert main(["verify", "--test-group", "--workers", "1", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    fail = next(line for line in out if line.startswith("[失败 FAIL]"))
    refused = next(line for line in out if line.startswith("拒绝 (REFUSED)"))
    return fail, refused


def _archive_words(built: Built) -> str:
    e = built.election
    return f"存档 {built.path.name}（投票「{e.name}」，uuid {e.uuid}）："


def test_a_ballot_changed_after_signing(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    steps = list(built.steps)
    k = ballot_steps(steps)[1]

    def change(obj: dict[str, Any]) -> None:
        c = obj["answers"][0]["choices"][0]
        c["beta"] = to_str(TEST_256.mul(int(c["beta"]), TEST_256.g))

    steps[k] = edit_json(steps[k], 0, change)
    write_steps(built.path, steps)
    fail, refused = _refusal(built.path, capsys)
    assert refused.startswith(
        "拒绝 (REFUSED): 选票：格式、凭证、证明与签名 (ballots: canonical, listed credential, "
        f"proofs and signature): {_archive_words(built)}第 2 张选票（跟踪号 "
    ), refused
    assert "的 Ballot 事件）无效：" in refused and "。 (ballot #2 (tracker " in refused
    assert UNKNOWN not in refused
    assert "第 2 张选票（跟踪号 " in fail and "(ballot #2 (tracker " in fail  # the FAIL line too


def test_a_deleted_ballot(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    steps = list(built.steps)
    del steps[ballot_steps(steps)[2]]
    write_steps(built.path, steps)
    _fail, refused = _refusal(built.path, capsys)
    assert (
        "的 EncryptedTally 事件称计入 3 张选票，但按选票应为 2 张。 (the EncryptedTally event"
        in (refused)
    ), refused
    assert _archive_words(built) in refused


def test_a_wrong_partial_decryption(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    steps = list(built.steps)
    k = step_index(steps, "PartialDecryption")
    owner, raw = steps[k].items
    obj = json.loads(raw)
    obj["decryption_factors"][1][2] = to_str(
        TEST_256.mul(int(obj["decryption_factors"][1][2]), TEST_256.g)
    )
    steps[k] = Step("PartialDecryption", (owner, compact(obj)))
    write_steps(built.path, steps)
    _fail, refused = _refusal(built.path, capsys)
    assert (
        "监票人 1 的部分解密（高度 " in refused
        and "的 PartialDecryption 事件）无效：其证明 [" in (refused)
    ), refused
    assert "(the partial decryption of trustee 1, " in refused


def test_a_shuffle_that_drops_a_ballot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.tally.test_progress import NH_TEMPLATE

    sim = simulate(tmp_path, NH_TEMPLATE, 3, test_group=True, workers=1)
    steps = steps_of(read_archive(sim.path))
    k = step_index(steps, "Shuffle")
    owner, raw = steps[k].items
    obj = json.loads(raw)
    obj["ciphertexts"][0] = obj["ciphertexts"][0][:-1]
    steps[k] = Step("Shuffle", (owner, compact(obj)))
    write_steps(sim.path, steps)
    _fail, refused = _refusal(sim.path, capsys)
    assert f"存档 {sim.path.name}（投票「n」，uuid {sim.election.uuid}）：监票人 " in refused, (
        refused
    )
    assert (
        "的混洗（第 1 次，高度 " in refused
        and "的 Shuffle 事件）无效：第 1 题（pick）的混洗" in (refused)
    )
    assert "输出 2 个密文而输入 3 个：有密文被删除或添加。 (shuffle #1 by trustee " in refused


# Details of real refusals (from the tampered archives and records of tests/record, tests/e2e,
# tests/shuffle) and the Chinese sentence each gets.
REAL = [
    (
        "poll p4 (选举青石镇副镇长（再次投票）) is not as the server's signed list names it",
        "表决 p4（选举青石镇副镇长（再次投票））与服务器签署的表决清单所列不符。",
    ),
    (
        "poll p1 (关于《预算》的决议), issuance statement 2: the signature on the ballot_issued "
        "does not check",
        "表决 p1（关于《预算》的决议），第 2 份发出选票声明：ballot_issued 上的签名不成立。",
    ),
    (
        "poll p1 (关于《预算》的决议): the published received count 6 is not 7 from the "
        "archive's num_tallied",
        "表决 p1（关于《预算》的决议）：公布的 received 票数 6 与存档的 num_tallied 给出的 7 "
        "不符。",
    ),
    (
        "poll p3 (选举副镇长): the published outcome's items [陈立新].status is 'tied', the "
        "rules give 'elected'",
        "表决 p3（选举副镇长）：公布的结果中 items [陈立新].status 为 'tied'，按表决规则应为 "
        "'elected'。",
    ),
    (
        "poll p2 (票决): the archive does not verify: ballots: canonical, listed credential, "
        "proofs and signature: ballot #1 (tracker AbC, Ballot event at height 1) is invalid: "
        "answer to question 1: the proof that choice 2 is 0 or 1 is invalid (2 other ballot(s) "
        "fail too)",
        "表决 p2（票决）：存档未通过「选票：格式、凭证、证明与签名」核验：第 1 张选票（跟踪号 AbC，"
        "高度 1 的 Ballot 事件）无效：第 1 题的答案：证明第 2 个选项为 0 或 1 的零知识证明不成立"
        "（另有 2 张选票也无效）。",
    ),
    (
        "event #8 (Ballot) comes after the Result: nothing may follow the Result",
        "第 8 个事件（Ballot）在结果（Result）之后：结果之后不得再有任何事件。",
    ),
    (
        "the result of question 2, ballot 1 is [3, 2, 3], but the decryption gives [1, 2, 3]",
        "结果中第 2 题第 1 张选票为 [3, 2, 3]，但解密得出 [1, 2, 3]。",
    ),
    (
        "only 1 of the 2 scrutineers needed signed the session's trustees",
        "会议监票人名单只有 1 位监票人签名，需要 2 位。",
    ),
]


@pytest.mark.parametrize(("english", "words"), REAL)
def test_real_refusals_in_chinese(english: str, words: str) -> None:
    assert chinese(english) == words
    assert bilingual(english) == f"{words} ({english})"


def test_a_reason_without_chinese_words_still_names_its_places() -> None:
    english = "poll p9 (议案): issuance statement 3: something new went wrong"
    assert chinese(english) == f"表决 p9（议案）：第 3 份发出选票声明：{UNKNOWN}。"
    assert chinese("something new") == f"{UNKNOWN}。"
