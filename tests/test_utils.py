"""The bottom layer's helpers: atomic writes, no-follow reads, control characters, YAML, JSON."""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from datetime import date
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import pytest

from promptlib.utils.files import NotRegularFileError, read_nofollow, write_atomic
from promptlib.utils.jsontext import dumps_indented
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


class _Colour(StrEnum):
    red = "red"


class _Level(IntEnum):
    high = 3


class _Float(float):
    def __repr__(self) -> str:
        return "not json's"


JSON_DOCUMENTS: list[Any] = [
    "top", 3, -0.0, None, True, [], {}, [[]], {"a": {}}, (1, 2),
    {"by": "week", "n": 7197, "rate": 0.0526, "big": 10**30, "tiny": 1e-300, "inf": float("inf"),
     "-inf": float("-inf"), "nan": float("nan"), "none": None, "flags": [True, False]},
    {"text": "caf\u00e9 \u2014 \"quoted\" \\ back\nline\ttab \x00 \x1b[31m \x85 \u2028 \U0001F600"},
    {7: "int key", 2.5: "float key", True: "bool key", None: "null key", float("nan"): "x"},
    {"enum": _Colour.red, _Colour.red: _Level.high, "float": _Float(1.5), "level": _Level.high},
    {"default": date(2024, 5, 1), "path": Path("a/b"), "set": {1}, "bytes": b"x"},
    OrderedDict([("z", 1), ("a", Counter({"x": 2}))]),
    {"rows": [{"recipe": f"bench/recipe-{i:05d}", "from": "a@x", "to": "b@x", "at": "2024-01-01"}
              for i in range(50)], "nested": [[1, [2, [3, {"k": []}]]]]},
]


@pytest.mark.parametrize("document", JSON_DOCUMENTS)
def test_dumps_indented_is_json_dumps_to_the_character(document: Any) -> None:
    assert dumps_indented(document) == json.dumps(document, indent=2, ensure_ascii=False,
                                                  default=str)


def test_dumps_indented_fails_as_json_dumps_does() -> None:
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented({"a": circular})
    with pytest.raises(TypeError, match="keys must be str"):
        dumps_indented({(1, 2): "tuple key"})

