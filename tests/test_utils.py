"""The bottom layer's helpers: atomic writes, no-follow reads, control characters, YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptlib.utils.files import NotRegularFileError, read_nofollow, write_atomic
from promptlib.utils.text import CONTROL_CHARS, escape_controls, has_controls, strip_controls
from promptlib.utils.yamltext import dump_yaml


def test_write_atomic_replaces_whole_and_leaves_no_temp_file(tmp_path: Path):
    target = tmp_path / "d" / "r.yaml"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["r.yaml"]


def test_read_nofollow_reads_at_most_the_limit(tmp_path: Path):
    (tmp_path / "f").write_bytes(b"abcdef")
    assert read_nofollow(tmp_path / "f", 4) == b"abcd"


def test_read_nofollow_refuses_a_symlink_and_a_folder(tmp_path: Path):
    (tmp_path / "f").write_bytes(b"secret")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    with pytest.raises(OSError, match=r"symbolic links"):
        read_nofollow(tmp_path / "link", 100)
    with pytest.raises(NotRegularFileError):
        read_nofollow(tmp_path, 100)


def test_control_characters_are_dropped_or_escaped_but_tab_and_newline_are_text():
    hostile = "ok\tline\n\x1b]52;c;AAAA\x07\x9b2J"
    assert strip_controls(hostile) == "ok\tline\n]52;c;AAAA2J"
    assert escape_controls("a\x1b[2Jb\n") == "a\\x1b[2Jb\\n"


def test_has_controls_agrees_with_the_regex_for_every_character():
    for code in range(0x110000):
        ch = chr(code)
        for text in (ch, f"plain\n{ch}", f"é\t{ch}"):
            assert has_controls(text) == bool(CONTROL_CHARS.search(text)), hex(code)


def test_read_nofollow_reads_a_file_whole_up_to_the_limit(tmp_path: Path):
    data = bytes(range(256)) * 1000
    (tmp_path / "f").write_bytes(data)
    assert read_nofollow(tmp_path / "f", len(data) + 1) == data
    assert read_nofollow(str(tmp_path / "f"), 1000) == data[:1000]
    (tmp_path / "empty").write_bytes(b"")
    assert read_nofollow(tmp_path / "empty", 10) == b""


def test_dump_yaml_keeps_order_and_writes_multi_line_text_as_a_block():
    assert dump_yaml({"name": "x", "template": "one\ntwo\n", "tags": ["a"]}) == (
        "name: x\ntemplate: |\n  one\n  two\ntags:\n- a\n")
