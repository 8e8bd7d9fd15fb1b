"""`config.yaml` in the home: the default collection and per-collection settings.

Read with the safe loader; a broken file is an error naming it, never silently replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from promptlib import paths as config
from promptlib.errors import InvalidError
from promptlib.utils.files import write_atomic
from promptlib.utils.yamltext import dump_yaml


@dataclass
class Settings:
    default_collection: str = config.LOCAL_COLLECTION
    # Per collection: e.g. {"sre": {"publish_usage": True}}.
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    redact_pii: bool = False
    # `redact: {allow: [...]}`: the user's own allow-list entries, as written (redact/allow.py).
    redact_allow: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {"default_collection": self.default_collection, "redact_pii": self.redact_pii,
                "collections": self.collections}
        if self.redact_allow:
            data["redact"] = {"allow": self.redact_allow}
        return data


def load() -> Settings:
    path = config.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    import yaml  # noqa: PLC0415  (PyYAML: only YAML readers and writers pay)

    try:
        safe_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(text, Loader=safe_loader) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InvalidError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidError(f"{path}: must be a YAML mapping")
    default = data.get("default_collection", config.LOCAL_COLLECTION)
    collections = data.get("collections") or {}
    if not isinstance(default, str) or not isinstance(collections, dict):
        raise InvalidError(f"{path}: default_collection must be a name and collections a mapping")
    redact = data.get("redact") or {}
    allow = redact.get("allow") if isinstance(redact, dict) else None
    if not isinstance(redact, dict) or not isinstance(allow or [], list):
        raise InvalidError(f"{path}: redact must be a mapping, and its allow a list")
    return Settings(default, collections, bool(data.get("redact_pii", False)), allow or [])


def save(settings: Settings) -> None:

    write_atomic(config.config_file(), dump_yaml(settings.to_dict()).encode("utf-8"))
