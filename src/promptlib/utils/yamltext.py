"""YAML as a person would write it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Field order kept, multi-line text as `|` blocks; the C dumper when PyYAML has it."""
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class _Dumper(base):  # type: ignore[valid-type,misc]
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, represent_str)
    text: str = yaml.dump(
        dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
        default_flow_style=False,
    )
    return text
