"""The secretariat's printed documents (PDF, A4, Chinese font embedded).

``pdf`` sets up a page with Noto Sans CJK (Debian's fonts-noto-cjk, embedded as a subset) and
draws QR codes as vector squares; ``cards`` prints enrolment cards, ``count_report`` each poll's
计票结果报告单, ``sheets`` the attendance sheet and the announcement of the results. Every
function takes plain data and returns the PDF's bytes (no database, no network).
"""
