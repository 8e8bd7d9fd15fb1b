"""Shell completion: what a TAB offers, computed without Typer (`promptlib __complete …`).

The scripts `promptlib completion bash|zsh|fish` prints (completion_scripts.py) call back into
`promptlib __complete SHELL CWORD LINE -- WORD…` on every TAB. A TAB must feel instant even at
10,000 recipes (DESIGN §6: ≤ 0.5× `grep -ril`, ~30 ms), so `cli.main()` hands it here before
anything else is imported, and the recipe names, tags and teams come straight from the search
index (`index/names.py`): no YAML, no git, no Click, not even `typing`. The price is that the
command line's grammar is written down here once more, in `COMMANDS`; tests/test_completion.py
checks it against the Typer app, so a command or option added there and not here fails a test
that says what to add.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

# What an argument or an option's value is, and so what a TAB offers for it.
RECIPE = "recipe"  # a recipe name, bare or collection/name
RECIPES = "recipes"  # several recipe names (lint)
TAG = "tag"
TEAM = "team"  # a collection with a remote: pull, push, team remove
TEAMS = "teams"
COLLECTION = "collection"  # any collection: --team, --to, team usage
QUERY = "query"  # search words: completes tag:… and team:…
FILE = "file"  # the shell's own file-name completion
FILES = "files"  # several file names (import)
TEXT = "text"  # free text: nothing to offer
TEXTS = "texts"  # several free-text words (diff's revisions): nothing to offer
FLAG = ""  # an option without a value
SHELLS = ("bash", "zsh", "fish")
REPEATED = (RECIPES, TEAMS, QUERY, FILES, TEXTS)
FORMATS = ("fabric", "llm", "prompty", "github", "dotprompt")  # import and export
Kind = str | tuple[str, ...]  # one of the names above, or the choices of a Click Choice

# Exit status of `promptlib __complete` that asks the script for the shell's file completion.
FILES_STATUS = 7


class Command:
    """One command: what its positional arguments are (the last one repeats when it is
    RECIPES, TEAMS, QUERY or FILES) and each option with what its value is. (Plain classes here, not
    NamedTuple: importing `typing` would cost a TAB a sixth of its time.)"""

    __slots__ = ("args", "options")

    def __init__(self, args: tuple[Kind, ...], options: Mapping[str, Kind]):
        self.args = args
        self.options = options


JSON = {"--json": FLAG}
TAGS = {"--tag": TAG, "-t": TAG}
TEAM_OPTION = {"--team": COLLECTION}
# Every command and its options (--help and -h are added to each). A command that takes a
# recipe is one line: `"name": Command((RECIPE,), {...options...}),`.
COMMANDS: dict[str, Command | dict[str, Command]] = {
    "search": Command((QUERY,), {**TAGS, **TEAM_OPTION, "--limit": TEXT, "-n": TEXT, **JSON,
                                 "--explain": FLAG}),
    "redact": Command((FILES,), {"--check": FLAG, "--json": FLAG, "--redact-pii": FLAG}),
    "diff": Command((RECIPE, TEXTS), JSON),
    "restore": Command((RECIPE,), {}),
    "tag": Command((RECIPE, TEXT), {"--move": FLAG}),
    "render": Command((RECIPE,), {"--var": TEXT, "-v": TEXT, "--copy": FLAG, "-c": FLAG,
                                  "--print": FLAG, "--no-redact": FLAG, "--redact-pii": FLAG,
                                  "--no-input": FLAG, "--max-chars": TEXT, **JSON}),
    "pick": Command((QUERY,), {"--copy": FLAG, "-c": FLAG}),
    "add": Command((TEXT,), {"--file": FILE, "-f": FILE, "--title": TEXT, "--description": TEXT,
                             **TAGS, "--template": TEXT, "--to": COLLECTION, "--edit": FLAG}),
    "show": Command((RECIPE,), JSON),
    "list": Command((), {**TAGS, **TEAM_OPTION, **JSON}),
    "tags": Command((), {**TEAM_OPTION, **JSON}),
    "edit": Command((RECIPE,), {"--file": FILE, "-f": FILE}),
    "remove": Command((RECIPE,), {}),
    "history": Command((RECIPE,), JSON),
    "lint": Command((RECIPES,), JSON),
    "init": Command((), {"--empty": FLAG, "--from": TEXT, "--name": TEXT}),
    "team": {
        "add": Command((TEXT, TEXT), {"--review": FLAG}),
        "list": Command((), JSON),
        "remove": Command((TEAM,), {"--force": FLAG}),
        "usage": Command((COLLECTION,), {"--publish": ("on", "off"), **JSON}),
    },
    "pull": Command((TEAMS,), JSON),
    "push": Command((TEAMS,), {"--review": FLAG, "--no-review": FLAG, **JSON}),
    "share": Command((RECIPE,), {"--to": COLLECTION, "--as": TEXT, "--review": FLAG,
                                 "--no-review": FLAG}),
    "resolve": Command((RECIPE,), {"--keep": ("mine", "theirs", "both")}),
    "win": Command((RECIPE,), {"--saved": TEXT, "-s": TEXT, "--before": TEXT, "--after": TEXT,
                               "--note": TEXT, "-n": TEXT, **JSON}),
    "report": Command((), {"--since": TEXT, "--until": TEXT, "--by": ("week", "month"),
                           **TEAM_OPTION, **JSON, "--html": FILE}),
    "completion": Command((SHELLS,), {}),
    "mcp": Command((), {"--page-size": TEXT, "--poll": TEXT}),
    "import": Command((FORMATS, FILES), {"--to": COLLECTION, **TAGS, "--dry-run": FLAG, **JSON,
                                         "--on-conflict": ("skip", "rename", "replace")}),
    "export": Command((FORMATS, RECIPES), {"--out": FILE, "-o": FILE, "--all": FLAG, **TAGS,
                                           **JSON}),
}
HELP: dict[str, Kind] = {"--help": FLAG, "-h": FLAG}
ROOT_OPTIONS: dict[str, Kind] = {**HELP, "--version": FLAG, "--json": FLAG}


class Answer:
    """The candidates, each with its description (or ""); or `files`: the shell's own file-name
    completion."""

    __slots__ = ("files", "values")

    def __init__(self, values: list[tuple[str, str]], files: bool = False):
        self.values = values
        self.files = files


def main(argv: Sequence[str]) -> int:
    """`promptlib __complete SHELL CWORD LINE -- WORD…`: candidates on stdout, one per line."""
    try:
        shell, cword, line, dash, *words = argv
        position = int(cword)
    except ValueError:
        return 2
    if dash != "--" or shell not in ("bash", "zsh", "fish"):
        return 2
    before, current, typed = split_command_line(words, position, line)
    try:
        answer = complete(before, current)
    except Exception:  # noqa: BLE001 - a TAB must never print a traceback into the prompt
        return 1
    if answer.files:
        return FILES_STATUS
    sys.stdout.write(format_for(shell, answer.values, current, typed))
    return 0


def split_command_line(words: Sequence[str], position: int, line: str
                       ) -> tuple[list[str], str, str]:
    """(words before the cursor's word, the cursor's word, what the shell thinks the cursor's
    word is). Bash splits `tag:inc` into `tag`, `:` and `inc` (COMP_WORDBREAKS), so for bash
    the line itself is split again here; its reply must then start where bash's word starts."""
    typed = words[position] if position < len(words) else ""
    if not line:
        return list(words[1:position]), typed, typed
    tokens, ends_in_space = shell_words(line)
    if ends_in_space or not tokens:
        tokens.append("")
    return tokens[1:-1], tokens[-1], typed


def shell_words(line: str) -> tuple[list[str], bool]:
    """Split a command line as the shell would (quotes and backslashes), forgivingly: an
    unclosed quote runs to the end. Also whether the line ends between words."""
    words: list[str] = []
    word: list[str] = []
    in_word, quote = False, ""
    chars = iter(line)
    for ch in chars:
        if not quote and ch in " \t\n":
            if in_word:
                words.append("".join(word))
            word, in_word = [], False
            continue
        in_word = True
        if ch == quote:
            quote = ""
        elif not quote and ch in "'\"":
            quote = ch
        elif ch == "\\" and quote != "'":
            word.append(next(chars, ""))
        else:
            word.append(ch)
    if in_word:
        words.append("".join(word))
    return words, not in_word


def format_for(shell: str, values: Sequence[tuple[str, str]], current: str, typed: str) -> str:
    if shell == "bash":
        # Bash replaces only its own last word: `inc` in `tag:inc`. Give it just that part.
        cut = len(current) - len(typed) if current.endswith(typed) else 0
        return "".join(v[cut:] + "\n" for v, _ in values if v.startswith(current[:cut]))
    return "".join(f"{v}\t{d}\n" if d else f"{v}\n" for v, d in values)


class _Place:
    """Where the cursor is in the grammar, found by walking the words before it."""

    def __init__(self, before: Sequence[str]):
        self.table: Mapping[str, Command | dict[str, Command]] = COMMANDS
        self.command: Command | None = None
        self.position = 0  # positional arguments of the command seen so far
        self.expecting: Kind | None = None  # the value the last option still waits for
        self.only_args = False  # after `--`
        self.unknown = False
        for word in before:
            self._step(word)

    def _step(self, word: str) -> None:
        if self.expecting is not None:
            self.expecting = None
        elif word == "--" and self.command is not None:
            self.only_args = True
        elif word.startswith("-") and len(word) > 1 and not self.only_args:
            kind = self.options.get(word.partition("=")[0], FLAG)
            self.expecting = kind if kind != FLAG and "=" not in word else None
        elif self.command is not None:
            self.position += 1
        else:
            found = self.table.get(word)
            if isinstance(found, Command):
                self.command = found
            elif found is not None:
                self.table = found
            else:
                self.unknown = True  # a command this table does not know: offer nothing

    @property
    def options(self) -> Mapping[str, Kind]:
        if self.command is not None:
            return {**self.command.options, **HELP}
        return ROOT_OPTIONS if self.table is COMMANDS else HELP

    def argument(self) -> Kind | None:
        """What the next positional argument is, if the command takes one more."""
        args = self.command.args if self.command is not None else ()
        if self.position < len(args):
            return args[self.position]
        return args[-1] if args and args[-1] in REPEATED else None


def complete(before: Sequence[str], current: str) -> Answer:
    """What to offer for `current`, the word under the cursor, after the words `before` it
    (the program's name left out)."""
    place = _Place(before)
    if place.unknown:
        return Answer([])
    if place.expecting is not None:
        return _values(place.expecting, current)
    if current.startswith("-") and not place.only_args:
        return _option(place.options, current)
    if place.command is None:
        return Answer([(name, "") for name in place.table if name.startswith(current)])
    kind = place.argument()
    return _values(kind, current) if kind is not None else Answer([])


def _option(options: Mapping[str, Kind], current: str) -> Answer:
    """An option's name — or, for `--tag=inc`, its value after the `=`."""
    option, eq, value = current.partition("=")
    if not eq:
        return Answer([(o, "") for o in options if o.startswith(current)])
    kind = options.get(option, FLAG)
    if not option.startswith("--") or kind == FLAG:
        return Answer([])
    answer = _values(kind, value)
    return Answer([(f"{option}={v}", d) for v, d in answer.values], answer.files)


def _values(kind: Kind, current: str) -> Answer:
    """The values of one kind that start with `current`."""
    if isinstance(kind, tuple):
        return Answer([(choice, "") for choice in kind if choice.startswith(current)])
    if kind in (FILE, FILES):
        return Answer([], files=True)
    source = _SOURCES.get(kind)
    return source(current) if source is not None else Answer([])


def _recipes(current: str) -> Answer:
    from promptlib.index import names  # noqa: PLC0415  (only a value to complete reads the index)

    collection, slash, prefix = current.rpartition("/")
    if not slash:
        return Answer(names.recipes(current))
    return Answer([(f"{collection}/{name}", title)
                   for name, title in names.recipes(prefix, collection=collection)])


def _tags(current: str) -> Answer:
    from promptlib.index import names  # noqa: PLC0415  (only a value to complete reads the index)

    return Answer([(tag, _count(n)) for tag, n in names.tags(current)])


def _collections(current: str, *, teams_only: bool = False) -> Answer:
    from promptlib.index import names  # noqa: PLC0415  (only a value to complete reads the index)

    found = names.collections(current, teams_only=teams_only)
    return Answer([(name, _count(n)) for name, n in found])


def _teams(current: str) -> Answer:
    return _collections(current, teams_only=True)


def _query_filter(current: str) -> Answer:
    """In search words, `tag:…` and `team:…` (search.py's query syntax)."""
    for key, kind in (("tag:", TAG), ("team:", COLLECTION)):
        if current.startswith(key):
            answer = _values(kind, current[len(key):])
            return Answer([(key + v, d) for v, d in answer.values])
    return Answer([])


def _count(n: int) -> str:
    return f"{n} recipe{'' if n == 1 else 's'}"


_SOURCES = {RECIPE: _recipes, RECIPES: _recipes, TAG: _tags, TEAM: _teams, TEAMS: _teams,
            COLLECTION: _collections, QUERY: _query_filter}
