"""Every path and environment variable promptlib uses, named once.

`PROMPTLIB_HOME` set means *everything* lives under it (DESIGN §3); tests and CI rely on that.
Nothing here creates anything: it only says where things are.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "PROMPTLIB_HOME"
ENV_EDITOR = ("VISUAL", "EDITOR")
ENV_NO_COLOR = "NO_COLOR"
# Who is committing and rendering: the variables git itself reads, which tests and CI set.
ENV_GIT_IDENTITY = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                    "GIT_COMMITTER_EMAIL")
# What the clipboard looks at: a display to hand the text to, or tmux to wrap OSC 52 for.
ENV_WAYLAND_DISPLAY = "WAYLAND_DISPLAY"
ENV_X11_DISPLAY = "DISPLAY"
ENV_TMUX = "TMUX"
APP_NAME = "promptlib"

LOCAL_COLLECTION = "local"
RECIPE_SUFFIX = ".yaml"
# Top-level folders of a collection that hold data, never recipes.
RESERVED_DIRS = frozenset({"wins", "usage"})
# A collection's redaction allow-list, committed with it (a hidden folder: never a recipe).
REDACT_ALLOW_FILE = ".promptlib/redact.yaml"
MAX_ALLOW_FILE_BYTES = 64 * 1024
# A collection's committed team roster (`members:`), which `report` counts as its people.
ROSTER_FILE = ".promptlib/team.yaml"
MAX_RECIPE_BYTES = 256 * 1024
# A collection's own additions to the synonym table of search, committed with its recipes.
COLLECTION_SYNONYMS = ".promptlib/synonyms.yaml"
# The controlling terminal: `pick` reads keys and draws there when stdin or stderr is redirected.
TTY = "/dev/tty"


def home() -> Path:
    """The data home: config and collections."""
    explicit = os.environ.get(ENV_HOME)
    if explicit:
        return Path(explicit).expanduser().absolute()
    from platformdirs import user_data_path  # noqa: PLC0415  (only when PROMPTLIB_HOME is unset)

    return user_data_path(APP_NAME, appauthor=False)


def _home_or(platform_dir: str) -> Path:
    explicit = os.environ.get(ENV_HOME)
    if explicit:
        return Path(explicit).expanduser().absolute() / platform_dir
    import platformdirs  # noqa: PLC0415  (only when PROMPTLIB_HOME is unset)

    if platform_dir == "cache":
        return platformdirs.user_cache_path(APP_NAME, appauthor=False)
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    return home() / "config.yaml"


def collections_dir() -> Path:
    return home() / "collections"


def collection_dir(name: str) -> Path:
    """The folder of one collection. `name` must already be validated (recipe.check_name)."""
    return collections_dir() / name


def cache_dir() -> Path:
    return _home_or("cache")


def state_dir() -> Path:
    return _home_or("state")


def index_file() -> Path:
    return cache_dir() / "index.sqlite3"


def index_lock_file() -> Path:
    """Held while the search index is being written, so two processes never build it twice."""
    return cache_dir() / "index.lock"


def synonyms_cache_file() -> Path:
    """The merged synonym tables, as JSON, with the signatures of the files they came from."""
    return cache_dir() / "synonyms.json"


def usage_cache_file() -> Path:
    """Recent renders per recipe and day, for search's usage boost (metrics/popularity.py)."""
    return cache_dir() / "usage-recent.json"


def index_cursor_file() -> Path:
    """Where the index's file sweep resumes on the next search (see index/db.py)."""
    return cache_dir() / "index.sweep"


def usage_log() -> Path:
    return state_dir() / "usage.jsonl"


def usage_machine_id() -> Path:
    """The random id that names this usage log's published files (kept beside the log)."""
    return state_dir() / "usage-machine-id"


def report_cache(collection: str) -> Path:
    """`report`'s digest of one collection's git history, kept in step with its HEAD."""
    return cache_dir() / "report" / f"{collection}.json"


def lock_file(collection: str) -> Path:
    return state_dir() / "locks" / f"{collection}.lock"


def starter_library() -> Path:
    """The starter library shipped inside the package (the project's `library/` folder).

    In a wheel it is package data at `promptlib/library`; in an editable install from a checkout
    it is the repository's own `library/` beside `src/`.
    """
    packaged = Path(__file__).with_name("library")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "library"


def editor() -> str | None:
    for var in ENV_EDITOR:
        value = os.environ.get(var)
        if value:
            return value
    return None


def no_color() -> bool:
    return bool(os.environ.get(ENV_NO_COLOR))


def git_identity() -> dict[str, str]:
    """The identity variables (`GIT_AUTHOR_EMAIL`, …) that are set and not empty."""
    return {name: value for name in ENV_GIT_IDENTITY if (value := os.environ.get(name))}


def env_is_set(name: str) -> bool:
    """True when one of the variables named above is set and not empty."""
    return bool(os.environ.get(name))


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment a child process gets: this one's, with `extra` on top."""
    return {**os.environ, **extra}
