"""The attendance sheet (出席情况) and the announcement of the session's results (公告)."""

from __future__ import annotations

from dataclasses import dataclass

from fpdf.fonts import FontFace

from voting.printing.pdf import FONT, document, draw_qr, groups, output

HEAD = FontFace(emphasis="", fill_color=(230, 230, 230))


@dataclass(frozen=True)
class AttendanceLine:
    seat: str
    name: str
    delegation: str
    status: str  # Chinese
    checked_in: str  # time or ""
    late: bool
    events: str  # 中途退场 09:40；返回会场 10:05 …


def attendance_pdf(
    session: str,
    printed_at: str,
    figures: dict[str, int | bool],
    lines: list[AttendanceLine],
) -> bytes:
    pdf = document(f"{session} 出席情况")
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 9, "代表出席情况", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, session, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"打印时间：{printed_at}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, size=11)
    quorum = "已达到" if figures.get("quorum") else "未达到"
    pdf.cell(
        0,
        7,
        f"应到 {figures.get('expected')} 人，实到 {figures.get('present')} 人，"
        f"请假 {figures.get('on_leave')} 人，缺席 {figures.get('absent')} 人；法定人数{quorum}。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font(FONT, size=9.5)
    with pdf.table(
        col_widths=(16, 26, 34, 20, 24, 60),
        line_height=5.5,
        headings_style=HEAD,
        text_align=("CENTER", "LEFT", "LEFT", "CENTER", "CENTER", "LEFT"),
    ) as table:
        table.row(["座位号", "姓名", "代表团", "状态", "签到时间", "补签到、中途退场与返回"])
        for line in lines:
            table.row(
                [
                    line.seat,
                    line.name,
                    line.delegation,
                    line.status,
                    line.checked_in + ("（补）" if line.late else ""),
                    line.events,
                ]
            )
    pdf.ln(6)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 8, "秘书处经办人：________________    核对：________________")
    return output(pdf)


@dataclass(frozen=True)
class AnnouncedPoll:
    poll_id: str
    title: str
    kind_label: str
    summary: str
    rows: list[tuple[str, int, int, int, str]]  # name, yes, no, abstain, result
    figures: str  # 应到 … 实到 … 发出 … 收回 …
    fingerprint: str
    record_url: str


def announcement_pdf(session: str, printed_at: str, polls: list[AnnouncedPoll]) -> bytes:
    pdf = document(f"{session} 表决和选举结果公告")
    pdf.add_page()
    pdf.set_font(FONT, size=18)
    pdf.cell(0, 10, "公  告", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(
        0,
        6.5,
        f"{session}的表决和选举结果如下（候选人的得票数一并公布）：",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if not polls:
        pdf.cell(0, 8, "尚无已公布的结果。", new_x="LMARGIN", new_y="NEXT")
    for n, p in enumerate(polls, start=1):
        if pdf.get_y() > 230:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(FONT, size=13)
        pdf.multi_cell(0, 7, f"{n}. {p.title}（{p.kind_label}）", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=10.5)
        pdf.multi_cell(0, 6, p.figures, new_x="LMARGIN", new_y="NEXT")
        if p.rows:
            with pdf.table(
                col_widths=(70, 22, 22, 22, 44), line_height=6, headings_style=HEAD
            ) as table:
                table.row(["名称", "赞成", "反对", "弃权", "结果"])
                for name, yes, no, abstain, result in p.rows:
                    table.row([name, str(yes), str(no), str(abstain), result])
        pdf.set_font(FONT, size=11)
        pdf.multi_cell(0, 6.5, f"结果：{p.summary}", new_x="LMARGIN", new_y="NEXT")
        if p.fingerprint:
            y = pdf.get_y() + 1
            pdf.set_font(FONT, size=8)
            pdf.set_xy(15, y)
            pdf.multi_cell(150, 4.5, "记录指纹：" + groups(p.fingerprint, 4) + f"\n{p.record_url}")
            draw_qr(pdf, p.record_url + "#sha256=" + p.fingerprint, 172, y, 22)
            pdf.set_y(max(pdf.get_y(), y + 23))
    pdf.ln(8)
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 8, f"{session}主席团", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, printed_at, align="R", new_x="LMARGIN", new_y="NEXT")
    return output(pdf)
