"""Every path and environment variable promptlib uses, named once.

`PROMPTLIB_HOME` set means *everything* lives under it (DESIGN §3); tests and CI rely on that.
Nothing here creates anything: it only says where things are.

The home, collections and cache folders also exist as plain strings (`home_dir()`, …) for a
shell TAB (index/names.py), which has ~30 ms in all: importing pathlib costs it ~9 ms and
platformdirs ~25 ms. So pathlib is imported only when a Path is asked for, and on Linux the
XDG folders are found here as platformdirs finds them (tests/test_paths.py compares the two);
anything unusual (another OS, a relative HOME or XDG variable) is asked of platformdirs itself.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself costs a TAB ~10 ms; mypy treats this name as typing's
if TYPE_CHECKING:
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
    return _path(home_dir())


def home_dir() -> str:
    """`home()` as a string, without pathlib."""
    explicit = _explicit_home()
    return explicit if explicit is not None else _platform_dir("data")


def _home_or(platform_dir: str) -> str:
    explicit = _explicit_home()
    return os.path.join(explicit, platform_dir) if explicit is not None else _platform_dir(
        platform_dir)


def _explicit_home() -> str | None:
    """PROMPTLIB_HOME, made absolute as `Path.expanduser().absolute()` would (nothing
    resolved), or None when it is unset or empty."""
    explicit = os.environ.get(ENV_HOME)
    if not explicit:
        return None
    expanded = os.path.expanduser(explicit)
    return expanded if os.path.isabs(expanded) else os.path.join(os.getcwd(), expanded)


# platformdirs' user folders on Linux: the XDG variable, else the default under the home.
_XDG = {"data": ("XDG_DATA_HOME", "~/.local/share"), "cache": ("XDG_CACHE_HOME", "~/.cache"),
        "state": ("XDG_STATE_HOME", "~/.local/state")}


def _platform_dir(kind: str) -> str:
    found = _plain_xdg_dir(kind)
    if found is not None:
        return found
    import platformdirs  # noqa: PLC0415  (~25 ms: only off Linux or for an unusual environment)

    finder = {"data": platformdirs.user_data_dir, "cache": platformdirs.user_cache_dir,
              "state": platformdirs.user_state_dir}[kind]
    return finder(APP_NAME, appauthor=False)


def _plain_xdg_dir(kind: str) -> str | None:
    """What platformdirs answers on Linux when the environment is plain, else None: an XDG
    variable that is unset, empty or an absolute path without spaces around it, and a HOME that
    is unset or absolute. (platformdirs versions differ only outside those cases.)"""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    variable, default = _XDG[kind]
    value = os.environ.get(variable, "")
    if value:
        ok = value.startswith("/") and value == value.strip()
        return os.path.join(value, APP_NAME) if ok else None
    home = os.environ.get("HOME")
    if home is not None and not home.startswith("/"):
        return None
    base = os.path.expanduser(default)
    return os.path.join(base, APP_NAME) if base.startswith("/") else None


def _path(text: str) -> Path:
    from pathlib import Path  # noqa: PLC0415  (see the module's docstring)

    return Path(text)


def config_file() -> Path:
    return home() / "config.yaml"


def collections_dir() -> Path:
    return _path(collections_dir_text())


def collections_dir_text() -> str:
    """`collections_dir()` as a string, without pathlib."""
    return os.path.join(home_dir(), "collections")


def collection_dir(name: str) -> Path:
    """The folder of one collection. `name` must already be validated (recipe.check_name)."""
    return collections_dir() / name


def cache_dir() -> Path:
    return _path(_home_or("cache"))


def state_dir() -> Path:
    return _path(_home_or("state"))


def index_file() -> Path:
    return _path(index_file_text())


def index_file_text() -> str:
    """`index_file()` as a string, without pathlib."""
    return os.path.join(_home_or("cache"), "index.sqlite3")


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
    here = _path(__file__)
    packaged = here.with_name("library")
    if packaged.is_dir():
        return packaged
    return here.resolve().parents[2] / "library"


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
