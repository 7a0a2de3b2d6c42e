"""Roster import: a CSV file, one line per deputy (name, delegation, seat).

The file may be UTF-8 (with or without a byte-order mark) or GBK, as Excel saves "CSV" on a
Chinese Windows; the header row may be English (``name,delegation,seat``) or Chinese (``姓名,
代表团,座位号``), its columns in any order, other columns (序号, 性别, …) ignored.
:func:`check_roster` reads the whole file and returns every deputy it could read and every
line's error, for the console's preview; :func:`parse_roster` (the HTTP API) refuses a file
with any error.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

MAX_ROSTER_BYTES = 2 * 1024 * 1024
MAX_DEPUTIES = 5000
MAX_ERRORS_SHOWN = 50
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I

# Header names accepted for each column (compared after strip() and lower()).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "代表姓名", "名字"),
    "delegation": ("delegation", "代表团", "所属代表团", "代表小组", "选区"),
    "seat": ("seat", "座位", "座位号", "座号", "席位", "席位号"),
}
COLUMN_NAMES = {"name": "姓名", "delegation": "代表团", "seat": "座位号"}


class RosterError(ValueError):
    """A roster that cannot be imported, in plain words (line number included)."""


@dataclass(frozen=True)
class RosterEntry:
    name: str
    delegation: str
    seat: str


@dataclass(frozen=True)
class LineError:
    line: int  # 1 = the header row; 0 = the file as a whole
    message: str

    def __str__(self) -> str:
        return f"第{self.line}行：{self.message}" if self.line else self.message


@dataclass(frozen=True)
class RosterCheck:
    """What a roster file holds: the deputies read, every error, the encoding, ignored columns."""

    entries: tuple[RosterEntry, ...]
    errors: tuple[LineError, ...]
    encoding: str = "UTF-8"
    ignored_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.entries)


def decode_roster(data: bytes) -> tuple[str, str]:
    """The file's text and the name of its encoding: UTF-8 (BOM or not), else GBK (GB 18030)."""
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"名册文件超过 {MAX_ROSTER_BYTES // 1024 // 1024} MB")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8（带 BOM）"
        except UnicodeDecodeError:
            raise RosterError("名册文件以 UTF-8 标记开头，但内容不是 UTF-8") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK"
    except UnicodeDecodeError:
        raise RosterError(
            "无法识别名册文件的编码：请在 Excel 中另存为“CSV UTF-8”或“CSV（逗号分隔）”"
        ) from None


def _header(row: list[str]) -> tuple[dict[str, int], tuple[str, ...], list[str]]:
    """Column index of name / delegation / seat, the ignored columns, and what is missing."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(row):
        key = cell.strip().lower()
        column = next((c for c, names in HEADERS.items() if key in names), None)
        if column is None or column in found:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        found[column] = i
    missing = [COLUMN_NAMES[c] for c in ("name", "seat") if c not in found]
    return found, tuple(ignored), missing


def check_roster(text: str, encoding: str = "UTF-8") -> RosterCheck:
    """Read a roster's text; every line's problem is collected (nothing raises)."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        return RosterCheck((), (LineError(0, "名册文件含有空字符（不是文本文件？）"),), encoding)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return RosterCheck((), (LineError(0, f"不是有效的 CSV 文件：{exc}"),), encoding)
    while rows and all(not c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        return RosterCheck((), (LineError(0, "名册文件是空的"),), encoding)
    columns, ignored, missing = _header(rows[0])
    if missing:
        return RosterCheck(
            (),
            (
                LineError(
                    1,
                    "第一行应为表头，至少含“姓名”和“座位号”两列（可加“代表团”），"
                    f"缺少：{'、'.join(missing)}",
                ),
            ),
            encoding,
            ignored,
        )
    entries: list[RosterEntry] = []
    errors: list[LineError] = []
    seats: dict[str, int] = {}
    width = max(columns.values()) + 1
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < width:
            errors.append(LineError(line, f"列数不足（应至少 {width} 列，实有 {len(row)} 列）"))
            continue
        name = row[columns["name"]].strip()
        seat = row[columns["seat"]].strip()
        delegation = row[columns["delegation"]].strip() if "delegation" in columns else ""
        if not name:
            errors.append(LineError(line, "姓名为空"))
            continue
        if not seat:
            errors.append(LineError(line, f"{name}：座位号为空"))
            continue
        if len(name) > 200 or len(delegation) > 200 or len(seat) > 64:
            errors.append(LineError(line, f"{name}：姓名或代表团超过200字，或座位号超过64字"))
            continue
        if seat in seats:
            errors.append(LineError(line, f"{name}：座位号 {seat} 与第{seats[seat]}行重复"))
            continue
        seats[seat] = line
        entries.append(RosterEntry(name, delegation, seat))
    if not entries and not errors:
        errors.append(LineError(0, "名册中没有代表"))
    if len(entries) > MAX_DEPUTIES:
        errors.append(LineError(0, f"名册超过 {MAX_DEPUTIES} 名代表"))
    return RosterCheck(tuple(entries), tuple(errors), encoding, ignored)


def check_roster_file(data: bytes) -> RosterCheck:
    """Decode and read an uploaded roster file."""
    try:
        text, encoding = decode_roster(data)
    except RosterError as exc:
        return RosterCheck((), (LineError(0, str(exc)),), "")
    return check_roster(text, encoding)


def parse_roster(text: str) -> list[RosterEntry]:
    """The roster's deputies, or RosterError naming every line that is wrong."""
    if len(text.encode("utf-8")) > MAX_ROSTER_BYTES:
        raise RosterError(f"名册文件超过 {MAX_ROSTER_BYTES // 1024 // 1024} MB")
    checked = check_roster(text)
    if checked.errors:
        shown = "；".join(str(e) for e in checked.errors[:MAX_ERRORS_SHOWN])
        more = len(checked.errors) - MAX_ERRORS_SHOWN
        raise RosterError(shown + (f"；另有 {more} 处错误" if more > 0 else ""))
    return list(checked.entries)


def new_enrolment_code() -> str:
    """A single-use enrolment code: 16 characters (80 bits), grouped for reading aloud."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
