"""A refusal of ``renda verify`` in Chinese first: one sentence for the English detail.

The checks (tally.verify, tally.session_record, the shuffle, decryption and ballot checks
they call) say what is wrong in English, naming where: the poll, the ballot (number, tracker,
event), the shuffle or partial decryption (trustee, event), the question. :func:`chinese`
gives the same in one Chinese sentence — the places first, in the same order, then the
reason — so that the auditor's output reads ``中文。 (English)`` as the demo's tables do.

The English stays the record of what the checker found (tests and belenios-tool comparisons
read it); this module only reads it. A reason without a Chinese wording here still gets a
Chinese sentence naming its places, ending ``未通过核验（原因见英文）``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# the check names of tally.verify, for "the archive does not verify: <check>: <detail>"
CHECKS_ZH: dict[str, str] = {
    "archive file is a well-formed Belenios archive": "存档文件完好",
    "events form one hash chain (parent, height)": "事件构成一条哈希链",
    "archive is exactly what its event chain regenerates": "存档与事件链逐字节一致",
    "events follow the election's life cycle, nothing after the Result": "事件顺序符合投票流程",
    "the earlier copy is a prefix of this record (nothing removed)": (
        "早先的副本是本记录的开头（无删除）"
    ),
    "setup data and election parameters": "设置数据与投票参数",
    "trustees' proofs and threshold parameters": "监票人密钥的证明与门限参数",
    "election public key is the product of the trustees' keys": "投票公钥是监票人公钥之积",
    "public credentials (group elements, no duplicates, weights)": "公开凭证",
    "ballots: canonical, listed credential, proofs and signature": "选票：格式、凭证、证明与签名",
    "tallied ballots: last ballot per credential, count and weight": "计入的选票",
    "stored encrypted tally equals the one recomputed from the ballots": "加密计票与重算结果一致",
    "shuffles of non-homomorphic questions": "混洗证明",
    "partial decryptions: known trustees, one each, valid proofs": "监票人的部分解密",
    "result is the decryption of the encrypted tally": "结果是加密计票的解密",
}

_TITLE = r"\((?P<title>[^()]*(?:\([^()]*\)[^()]*)*)\)"
_EVENT = r"(?P<type>\w+) event at height (?P<height>\d+) \(\w+…\)"

# Places, read from the start of the detail in turn: (pattern, its Chinese words).
_PLACES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"poll (?P<id>\S+) " + _TITLE),
        lambda m: f"表决 {m['id']}（{m['title']}）",
    ),
    (
        re.compile(
            r"the archive does not verify: (?P<check>"
            + "|".join(re.escape(name) for name in CHECKS_ZH)
            + ")"
        ),
        lambda m: f"存档未通过「{CHECKS_ZH[m['check']]}」核验",
    ),
    (
        re.compile(
            r"ballot #(?P<n>\d+) \(tracker (?P<tracker>\S+), Ballot event at height (?P<h>\d+)\)"
        ),
        lambda m: f"第 {m['n']} 张选票（跟踪号 {m['tracker']}，高度 {m['h']} 的 Ballot 事件）",
    ),
    (
        re.compile(r"shuffle #(?P<k>\d+) by trustee (?P<t>\d+), " + _EVENT + ","),
        lambda m: f"监票人 {m['t']} 的混洗（第 {m['k']} 次，高度 {m['height']} 的 Shuffle 事件）",
    ),
    (
        re.compile(r"shuffle #(?P<k>\d+), " + _EVENT),
        lambda m: f"第 {m['k']} 次混洗（高度 {m['height']} 的 Shuffle 事件）",
    ),
    (
        re.compile(r"the partial decryption of trustee (?P<t>\d+), " + _EVENT + ","),
        lambda m: f"监票人 {m['t']} 的部分解密（高度 {m['height']} 的 {m['type']} 事件）",
    ),
    (
        re.compile(r"the shuffle of question (?P<q>\d+) \('(?P<text>.*?)'\)"),
        lambda m: f"第 {m['q']} 题（{m['text']}）的混洗",
    ),
    (re.compile(r"the shuffle of question (?P<q>\d+)"), lambda m: f"第 {m['q']} 题的混洗"),
    (re.compile(r"issuance statement (?P<n>\d+)"), lambda m: f"第 {m['n']} 份发出选票声明"),
    (re.compile(r"answer to question (?P<q>\d+)"), lambda m: f"第 {m['q']} 题的答案"),
    (re.compile(r"the " + _EVENT), lambda m: f"高度 {m['height']} 的 {m['type']} 事件"),
    (re.compile(r"the result statement"), lambda _m: "结果声明"),
]

# What follows a place: its separator, or a verb that the Chinese puts after the place.
_JOINS: list[tuple[str, str]] = [
    (" is invalid: ", "无效："),
    (", is invalid: ", "无效："),
    (" is not valid: ", "无效："),
    (" cannot be checked: ", "无法核验："),
    (" is invalid", "无效"),
    (": ", "："),
    (", ", "，"),
    (" ", ""),
]

# Reasons (the rest of the detail, matched whole) and their Chinese words.
_REASONS: list[tuple[str, str]] = [
    # ballots (tally.ballot, tally.verify)
    (r"the ballot signature is invalid", r"选票签名不成立"),
    (r"the signature's hash is not the hash of the ballot", r"签名中的哈希不是这张选票的哈希"),
    (
        r"the proof that choice (\d+) is 0 or 1 is invalid",
        r"证明第 \1 个选项为 0 或 1 的零知识证明不成立",
    ),
    (r"the proof of the encrypted answer is invalid", r"加密答案的证明不成立"),
    (r"the overall proof is invalid", r"总体证明不成立"),
    (r"the blank proof is invalid", r"空白票证明不成立"),
    (r"has no blank proof", r"缺少空白票证明"),
    (r"has the wrong number of choices", r"选项数目不对"),
    (r"has a blank proof but blank votes are not allowed", r"有空白票证明，但本次投票不允许空白票"),
    (r"is not a (?:non-)?homomorphic answer", r"答案的类型与题目不符"),
    (
        r"the ballot's election_uuid is not the uuid of this election",
        r"选票的 election_uuid 不是本次投票的 uuid",
    ),
    (
        r"the ballot's election_hash is not the fingerprint of this election",
        r"选票的 election_hash 不是本次投票的指纹",
    ),
    (r"the ballot does not answer every question", r"选票没有回答每一道题"),
    (r"the ballot has no credential", r"选票没有凭证"),
    (
        r"is signed with a credential that is not in the public credential list",
        r"所用的凭证不在公开凭证名单中",
    ),
    (r"ballot is not in canonical form.*", r"选票不是规范格式（Belenios 写出的紧凑 JSON）"),
    (r"ballot is not valid JSON.*", r"选票不是有效的 JSON"),
    (r"malformed answers \(.*\)", r"答案格式错误"),
    # the file and its events
    (r"(.+) does not exist", r"\1 不存在"),
    (r"the tar header of (\S+) at byte (\d+) is corrupt.*", r"\1 的 tar 头（第 \2 字节处）已损坏"),
    (r"the archive has no events", r"存档没有任何事件"),
    (
        r"event #(\d+) \((\w+)\) comes after the Result: nothing may follow the Result",
        r"第 \1 个事件（\2）在结果（Result）之后：结果之后不得再有任何事件",
    ),
    (
        r"the earlier copy is not a prefix of this record: member #(\d+) of the earlier copy "
        r"was removed or changed",
        r"早先的副本不是本记录的开头：早先副本的第 \1 个成员被删除或改动",
    ),
    (
        r"the earlier copy has another timestamp: not the same archive",
        r"早先的副本时间戳不同：不是同一个存档",
    ),
    # setup
    (r"election: unknown group '(.*?)'.*", r"投票使用了未知的群 \1"),
    (r"the election fingerprint does not match the election text", r"投票指纹与投票文本不符"),
    (
        r"the election's public key is not the product of the trustees' public keys",
        r"投票公钥不是监票人公钥之积",
    ),
    (r"the public credential (\S+) is listed twice", r"公开凭证 \1 列出了两次"),
    # tally
    (
        r"says (\d+) ballot\(s\) were tallied, but the ballots give (\d+)",
        r"称计入 \1 张选票，但按选票应为 \2 张",
    ),
    (
        r"says the total weight is (\d+), but the tallied ballots weigh (\d+)",
        r"称总权重为 \1，但计入的选票权重为 \2",
    ),
    (
        r"the stored encrypted tally differs from the one recomputed from the (\d+) tallied "
        r"ballot\(s\) \(first difference: question (\d+), ciphertext (\d+)\)",
        r"存储的加密计票与由 \1 张计入选票重算的不同（第一处不同：第 \2 题第 \3 个密文）",
    ),
    (
        r"the stored encrypted tally differs from the one recomputed from the (\d+) tallied "
        r"ballot\(s\).*",
        r"存储的加密计票与由 \1 张计入选票重算的不同",
    ),
    # shuffles
    (
        r"the proof does not hold for these ciphertexts \(its equation (\w+) fails\)",
        r"混洗证明对这些密文不成立（等式 \1 不成立）",
    ),
    (
        r"has (\d+) ciphertexts where (\d+) went in: a ciphertext was dropped or added",
        r"输出 \1 个密文而输入 \2 个：有密文被删除或添加",
    ),
    (r"trustee (\d+) already shuffled", r"监票人 \1 已经混洗过"),
    (
        r"the election has non-homomorphic questions but its ballots were decrypted without "
        r"any shuffle",
        r"投票有非同态题，但选票未经混洗就被解密",
    ),
    (
        r"the archive has Shuffle events but no non-homomorphic question",
        r"存档有混洗事件，但没有非同态题",
    ),
    # partial decryptions and the result
    (r"there is no trustee (\d+) \(trustees are 1\.\.(\d+)\)", r"没有监票人 \1（编号为 1 至 \2）"),
    (r"trustee (\d+) already gave one", r"监票人 \1 已经给过一份"),
    (r"proof \[(\d+)\]\[(\d+)\] is invalid", r"其证明 [\1][\2] 不成立"),
    (r"partial decryption lacks the field\(s\) (.*)", r"部分解密缺少字段 \1"),
    (r"partial decryptions without an encrypted tally", r"有部分解密，却没有加密计票"),
    (r"the result has no partial decryptions to rest on", r"结果没有任何部分解密作为依据"),
    (r"the partial decryptions cannot be combined: .*", r"部分解密无法合并"),
    (
        r"the result of question (\d+), answer (\d+) is (\d+), but the decryption of the "
        r"encrypted tally gives another number",
        r"结果中第 \1 题第 \2 个选项为 \3，但加密计票的解密是另一个数",
    ),
    (
        r"the result of question (\d+), answer (\d+) is (.*), outside 0\.\.(\d+) \(the total "
        r"weight\)",
        r"结果中第 \1 题第 \2 个选项为 \3，超出 0 至 \4（总权重）",
    ),
    (
        r"the result of question (\d+), ballot (\d+) is (.*), but the decryption gives (.*)",
        r"结果中第 \1 题第 \2 张选票为 \3，但解密得出 \4",
    ),
    (
        r"ballot (\d+) of question (\d+) does not decrypt to a valid vote: .*",
        r"第 \2 题第 \1 张选票解密后不是有效的选票",
    ),
    (
        r"the result has the right numbers but is not stored in Belenios's canonical "
        r"serialization",
        r"结果的数字正确，但没有按 Belenios 的规范格式存储",
    ),
    # the session record (tally.session_record)
    (r"is not as the server's signed list names it", r"与服务器签署的表决清单所列不符"),
    (
        r"poll (\S+) of the server's signed list of polls is missing from the record",
        r"服务器签署的表决清单中的表决 \1 不在记录中",
    ),
    (
        r"poll (\S+) is not in the server's signed list of polls",
        r"表决 \1 不在服务器签署的表决清单中",
    ),
    (
        r"is not encrypted to the session's trustees.*",
        r"没有加密给本次会议的监票人（密钥仪式产生、监票人签署的那些）",
    ),
    (
        r"only (\d+) of the (\d+) scrutineers needed signed the session's trustees",
        r"会议监票人名单只有 \1 位监票人签名，需要 \2 位",
    ),
    (
        r"the issuance log names poll (\S+), not in outcomes\.json",
        r"发出选票日志提到表决 \1，但 outcomes.json 中没有这个表决",
    ),
    (
        r"(\d+) ballot\(s\) issued but the archive lists (\d+) public credential\(s\)",
        r"发出 \1 张选票，但存档列出 \2 个公开凭证",
    ),
    (
        r"the statement is signed by another key than the pinned one",
        r"该声明由另一个密钥签名，不是记录所固定的服务器密钥",
    ),
    (r"the signature on the (\w+) does not check", r"\1 上的签名不成立"),
    (r"seat (\S+) is issued a ballot twice", r"座位 \1 被发了两次选票"),
    (
        r"the published (\w+) count (.*) is not (.*) from the archive's (\w+)",
        r"公布的 \1 票数 \2 与存档的 \4 给出的 \3 不符",
    ),
    (
        r"the published outcome's (.*?) is (.*), the rules give (.*)",
        r"公布的结果中 \1 为 \2，按表决规则应为 \3",
    ),
    (
        r"rules\.json differs from outcomes\.json's rules",
        r"rules.json 与 outcomes.json 中的规则不同",
    ),
    (
        r"report\.json differs from outcomes\.json's report",
        r"report.json 与 outcomes.json 中的计票结果报告单不同",
    ),
    (
        r"only (\d+) of the (\d+) scrutineers' signatures needed are in: the count report is "
        r"not confirmed",
        r"计票结果报告单只有 \1 位监票人签名，需要 \2 位：报告单未获确认",
    ),
    (r"counts are published but the archive has no result", r"公布了票数，但存档没有结果"),
    (r"the archive has a result but no counts are published", r"存档有结果，但没有公布票数"),
    (r"is published without a signed result statement", r"公布时没有签名的结果声明"),
    (r"the archive (\S+) is missing", r"存档 \1 不见了"),
    (r"the record has no (.*) \((\S+)\)", r"记录中没有 \2（\1）"),
    # the checker's own catch-alls
    (r"malformed data \(.*\)", r"数据格式错误"),
    (r"a malformed entry in the record \(.*\)", r"记录中有格式错误的条目"),
    (r"could not be checked \(.*\)", r"无法核验（核验程序出错）"),
]
_COMPILED = [(re.compile(p, re.DOTALL), zh) for p, zh in _REASONS]
_OTHERS = re.compile(r"^(?P<rest>.*) \((?P<n>\d+) other ballot\(s\) fail too\)$", re.DOTALL)

UNKNOWN = "未通过核验（原因见英文）"


def _places(text: str) -> tuple[str, str]:
    """The Chinese words for the places at the start of ``text``, and what remains."""
    out = ""
    while True:
        for pattern, words in _PLACES:
            m = pattern.match(text)
            if m is None:
                continue
            rest = text[m.end() :]
            join = next(((en, zh) for en, zh in _JOINS if rest.startswith(en)), None)
            if join is None and rest:
                continue  # not a place here (e.g. "poll p1 (…)" inside a sentence)
            en, zh = join if join is not None else ("", "")
            out += words(m) + zh
            text = rest[len(en) :]
            break
        else:
            return out, text


def reason(text: str) -> str | None:
    """The Chinese words for one reason, or None if there are none here."""
    for pattern, zh in _COMPILED:
        m = pattern.fullmatch(text)
        if m is not None:
            return m.expand(zh)
    return None


def chinese(detail: str) -> str:
    """One Chinese sentence for a refusal's English ``detail``: places, then the reason."""
    text = detail.strip()
    others = ""
    found = _OTHERS.match(text)
    if found is not None:
        text, others = found["rest"], f"（另有 {found['n']} 张选票也无效）"
    where, rest = _places(text)
    why = reason(rest) if rest else ""
    if why is None:
        why = UNKNOWN if not where or where.endswith(("：", "，")) else "：" + UNKNOWN
    sentence = (where + why).rstrip("：，") + others
    return sentence + "。"


def bilingual(detail: str) -> str:
    """``中文。 (English)``: a refusal as ``renda verify`` prints it."""
    return f"{chinese(detail)} ({detail})" if detail else ""
