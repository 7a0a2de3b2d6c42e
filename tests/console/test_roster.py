"""Roster files as a secretariat has them: UTF-8 with or without BOM, GBK from Excel, Chinese
headers, errors on every line."""

from __future__ import annotations

import pytest

from voting.session.roster import RosterError, check_roster_file, parse_roster

CHINESE = "序号,姓名,代表团,座位号\r\n1,张三,第一代表团,001\r\n2,李四,第二代表团,002\r\n"


def test_utf8_with_and_without_bom_and_gbk_read_the_same() -> None:
    plain = check_roster_file(CHINESE.encode("utf-8"))
    bom = check_roster_file(b"\xef\xbb\xbf" + CHINESE.encode("utf-8"))
    gbk = check_roster_file(CHINESE.encode("gbk"))
    assert plain.ok and bom.ok and gbk.ok
    assert plain.entries == bom.entries == gbk.entries
    assert [e.name for e in gbk.entries] == ["张三", "李四"]
    assert (plain.encoding, bom.encoding, gbk.encoding) == ("UTF-8", "UTF-8（带 BOM）", "GBK")
    assert gbk.ignored_columns == ("序号",)


def test_english_header_and_columns_in_any_order() -> None:
    checked = check_roster_file(b"seat,name,delegation\n7,Wang,D1\n")
    assert checked.ok
    assert checked.entries[0].seat == "7" and checked.entries[0].name == "Wang"


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = (
        "姓名,代表团,座位号\n张三,一团,001\n,一团,002\n李四,一团,\n"
        "王五,一团,001\n赵六\n钱七,二团,005\n"
    )
    checked = check_roster_file(text.encode("gbk"))
    assert not checked.ok
    assert [e.line for e in checked.errors] == [3, 4, 5, 6]
    assert "与第2行重复" in checked.errors[2].message
    assert [e.name for e in checked.entries] == ["张三", "钱七"]
    with pytest.raises(RosterError, match="第3行：姓名为空"):
        parse_roster(text)


def test_missing_header_and_unreadable_files_are_refused_in_words() -> None:
    assert "缺少：座位号" in str(check_roster_file("姓名,代表团\n张三,一团\n".encode()).errors[0])
    assert "编码" in str(check_roster_file(b"\xff\xfe\x00\x81\x30").errors[0])
    assert "空" in str(check_roster_file(b"").errors[0])
