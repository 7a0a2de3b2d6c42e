"""The 计票结果报告单 of a tallied poll (npc-rules §8.3), from the rules engine's count report.

Every field of ``tally.rules.report.CountReport`` is printed: session, poll, post and seats,
candidates, 应到 / 实到, the quorum and majority figures, ballots issued / returned / not
returned, valid / void (with reasons) / blank, how unmarked boxes were read, the verdict, one
row per candidate or project (赞成 / 反对 / 弃权, unmarked, points, 过半数, result), the summary,
the follow-ups, and the signature lines. Below them: the scrutineers whose electronic signature
is in (checked by the server against their ceremony certificates), and the poll record's
fingerprint as text and as a QR code, so that a reader can check the paper against the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from voting.printing.pdf import FONT, document, draw_qr, groups, output

HAND_KINDS = {"show_of_hands": "举手表决", "paper": "纸质选票"}


@dataclass(frozen=True)
class SignatureLine:
    role: str  # 总监票人 / 监票人 / 计票人
    name: str
    signed: str = ""  # "已电子签名" and its digest, or "" for a hand signature


@dataclass(frozen=True)
class ReportInput:
    session: str
    poll_id: str
    report: dict[str, Any]  # tally.rules.report.report_to_data(...)
    fingerprint: str  # sha256 hex of the poll's record (its archive)
    record_url: str  # where the record is published
    signatures: tuple[SignatureLine, ...] = ()
    method: str = "device"  # device | show_of_hands | paper
    printed_at: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _kv(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    pdf.set_font(FONT, size=10.5)
    for key, value in rows:
        y = pdf.get_y()
        pdf.set_xy(15, y)
        pdf.multi_cell(55, 6.5, key, border=1)
        height = pdf.get_y() - y
        pdf.set_xy(70, y)
        pdf.multi_cell(125, 6.5, value, border=1)
        end = max(pdf.get_y(), y + height)
        pdf.set_y(end)


def count_report_pdf(data: ReportInput) -> bytes:
    r = data.report
    kind = str(r.get("kind", ""))
    election = kind == "election"
    projects = kind == "projects"
    pdf = document(f"计票结果报告单 {r.get('title', '')}")
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 10, "计票结果报告单", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, data.session, align="C", new_x="LMARGIN", new_y="NEXT")
    if data.method in HAND_KINDS:
        pdf.set_font(FONT, size=11)
        pdf.cell(
            0,
            7,
            f"本次为{HAND_KINDS[data.method]}：票数由秘书处录入，经监票人签字确认",
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(2)
    rows: list[tuple[str, str]] = [
        ("事项", f"{r.get('title', '')}（{r.get('kind_label', '')}）"),
        ("投票编号", data.poll_id),
    ]
    if election:
        rows += [
            ("职务", f"{r.get('post', '')}（{r.get('post_type', '')}）"),
            ("应选人数", str(r.get("seats"))),
            ("候选人", "、".join(r.get("candidates", []))),
        ]
    elif r.get("seats") is not None:
        rows.append(("应选项目数", str(r["seats"])))
    not_returned = "未按" if kind == "motion" else "未投"
    rows += [
        ("应到代表（实有代表数）", str(r.get("total"))),
        ("实到代表", str(r.get("present"))),
        ("法定人数", f"{r.get('quorum_minimum')}人（三分之二以上）"),
        ("过半数", f"{r.get('majority_minimum')}票（全体代表过半数）"),
        ("发出票数", str(r.get("issued"))),
        ("收回票数", str(r.get("returned"))),
        (not_returned, str(r.get("not_returned"))),
        ("有效票", str(r.get("valid"))),
        ("无效票", str(r.get("void"))),
    ]
    rows += [(f"其中：{v['label']}", str(v["count"])) for v in r.get("void_reasons", [])]
    rows.append(("空白票", str(r.get("blank", 0))))
    if r.get("unmarked_read_as"):
        rows.append(("未标记视为", str(r["unmarked_read_as"])))
    if data.method in HAND_KINDS:  # the devices failed: what the hall did instead
        rows.append(("投票方式", f"{HAND_KINDS[data.method]}（人工清点，秘书处录入）"))
    elif r.get("election_method"):
        method = {"device": "电子表决器", "paper_tally": "纸质选票、电子计票"}
        rows.append(("投票方式", method.get(str(r["election_method"]), str(r["election_method"]))))
    rows.append(("本次投票", str(r.get("verdict_label", ""))))
    _kv(pdf, rows)
    pdf.ln(3)
    items = r.get("rows", [])
    if r.get("verdict") == "valid" and items:
        has_unmarked = any(i.get("unmarked") for i in items)
        has_points = any(i.get("points") is not None for i in items)
        header = ["项目" if projects else "姓名", "赞成", "反对", "弃权"]
        if has_unmarked:
            header.append("未标记")
        if has_points:
            header.append("积分")
        header += ["过半数", "结果"]
        pdf.set_font(FONT, size=10)
        with pdf.table(
            col_widths=[60] + [18] * (len(header) - 3) + [18, 30],
            text_align="CENTER",
            line_height=6.5,
            first_row_as_headings=True,
            headings_style=FontFace(emphasis="", fill_color=(230, 230, 230)),
        ) as table:
            table.row(header)
            for i in items:
                name = f"{i['name']}（另选）" if i.get("write_in") else str(i["name"])
                cells = [name, str(i["yes"]), str(i["no"]), str(i["abstain"])]
                if has_unmarked:
                    cells.append(str(i.get("unmarked", 0)))
                if has_points:
                    cells.append("" if i.get("points") is None else str(i["points"]))
                cells += ["是" if i.get("qualified") else "否", str(i.get("result", ""))]
                table.row(cells)
    else:
        pdf.set_font(FONT, size=11)
        pdf.cell(0, 8, "本次投票无效，不计票。", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 6.5, f"结果：{r.get('summary', '')}", new_x="LMARGIN", new_y="NEXT")
    for f in r.get("follow_ups", []):
        who = "、".join(f.get("candidates", []))
        pdf.multi_cell(
            0,
            6,
            f"{f.get('label', '')}：{f.get('reason', '')}" + (f"（{who}）" if who else ""),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    for note in (*r.get("notes", []), *data.notes):
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(0, 5, f"说明：{note}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, size=11)
    lines = data.signatures or tuple(
        SignatureLine(s.get("role", ""), s.get("name", "")) for s in r.get("signatures", [])
    )
    for s in lines:
        signed = f"    {s.signed}" if s.signed else ""
        pdf.cell(
            0,
            9,
            f"{s.role}：{s.name or '__________'}    签字：________________{signed}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if pdf.get_y() > 240:
        pdf.add_page()
    y = pdf.get_y() + 3
    pdf.set_font(FONT, size=9)
    pdf.set_xy(15, y)
    pdf.multi_cell(
        140,
        5,
        (
            "记录指纹（本报告单签名文本的 SHA-256；人工计票，无法用密码学方法核验）：\n"
            if data.method in HAND_KINDS
            else "记录指纹（本投票公开记录的 SHA-256，可用 renda verify 核对）：\n"
        )
        + groups(data.fingerprint, 4)
        + f"\n公开记录：{data.record_url}"
        + (f"\n打印时间：{data.printed_at}" if data.printed_at else ""),
    )
    draw_qr(pdf, data.record_url + "#sha256=" + data.fingerprint, 160, y, 35)
    return output(pdf)
