"""Enrolment cards: eight a page (2 × 4), to cut and hand to each deputy at 报到."""

from __future__ import annotations

from dataclasses import dataclass

from voting.printing.pdf import FONT, document, draw_qr, output

CARD_W, CARD_H = 90.0, 64.0
COLUMNS, ROWS = 2, 4
LEFT, TOP, GAP = 12.0, 12.0, 6.0


@dataclass(frozen=True)
class Card:
    name: str
    seat: str
    delegation: str
    code: str  # XXXX-XXXX-XXXX-XXXX


def cards_pdf(session: str, cards: list[Card]) -> bytes:
    """The cards of ``cards``, in order; each: session, name, seat, delegation, code, QR."""
    pdf = document(f"{session} 表决器登记卡")
    pdf.set_auto_page_break(auto=False)
    per_page = COLUMNS * ROWS
    for i, card in enumerate(cards):
        if i % per_page == 0:
            pdf.add_page()
        slot = i % per_page
        x = LEFT + (slot % COLUMNS) * (CARD_W + GAP)
        y = TOP + (slot // COLUMNS) * (CARD_H + GAP / 2)
        pdf.set_draw_color(120, 120, 120)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        pdf.rect(x, y, CARD_W, CARD_H)
        pdf.set_dash_pattern()
        pdf.set_xy(x + 4, y + 3)
        pdf.set_font(FONT, size=7.5)
        pdf.multi_cell(CARD_W - 8, 3.6, session[:60], align="L")
        pdf.set_xy(x + 4, y + 12)
        pdf.set_font(FONT, size=16)
        pdf.cell(50, 8, card.name[:12])
        pdf.set_font(FONT, size=10)
        pdf.set_xy(x + 4, y + 21)
        pdf.cell(50, 6, f"座位号：{card.seat}")
        pdf.set_xy(x + 4, y + 27)
        pdf.cell(50, 6, f"代表团：{card.delegation[:14]}")
        pdf.set_xy(x + 4, y + 38)
        pdf.set_font(FONT, size=8)
        pdf.cell(50, 5, "登记码（只能使用一次）")
        pdf.set_xy(x + 4, y + 44)
        pdf.set_font("Courier", style="B", size=12)
        pdf.cell(52, 7, card.code)
        pdf.set_font(FONT, size=7)
        pdf.set_xy(x + 4, y + 54)
        pdf.multi_cell(
            52, 3.4, "在座位的表决器上扫描二维码或输入登记码；本卡请妥善保管，勿给他人。"
        )
        draw_qr(pdf, card.code, x + CARD_W - 33, y + 16, 30)
    if not cards:
        pdf.add_page()
        pdf.cell(0, 10, "没有需要打印的登记卡（所有表决器均已登记）。")
    return output(pdf)
