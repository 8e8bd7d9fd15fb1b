"""The recipe model and its strict loader: every rule of DESIGN §2, and hostile YAML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptlib import recipe
from promptlib.errors import InvalidError, RecipeError
from tests.conftest import recipe_yaml

GOOD = recipe_yaml()


def load_error(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(RecipeError) as info:
        recipe.load(data, path="r.yaml")
    return str(info.value)


def test_loads_a_valid_recipe_with_defaults_filled():
    r = recipe.loads(GOOD)
    assert r.name == "disk-full"
    assert r.tags == ("incident-response", "disk")
    assert r.use_case == "incident-response"
    host = r.variables[0]
    assert (host.name, host.required, host.default, host.stdin) == ("host", True, None, False)
    assert r.format == 1


def test_variable_with_default_is_optional():
    text = recipe_yaml(variables="variables:\n  host:\n    default: web-1\n")
    assert recipe.loads(text).variables[0].required is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD + "titel: typo\n", "r.yaml:10: titel: unknown field 'titel'"),
        (GOOD + "title: again\n", "r.yaml:10: title: duplicate key 'title' (first at line 2)"),
        (GOOD + "no: 1\n", "r.yaml:10: key 'no' is read as a boolean, not a string: quote it"),
        (GOOD + "yes: 1\n", "r.yaml:10: key 'yes' is read as a boolean, not a string: quote it"),
        (GOOD.replace("name: disk-full", "name: Disk_Full"),
         "r.yaml:1: name: invalid name 'Disk_Full': use 1-64 lowercase letters, digits and "
         "inner hyphens"),
        (GOOD.replace("tags: [incident-response, disk]", "tags: []"),
         "r.yaml:4: tags: needs at least one tag (the first names the use case)"),
        (GOOD.replace("title: Triage a full disk\n", ""),
         "r.yaml:1: title: missing required field 'title'"),
        (GOOD.replace("title: Triage a full disk", "title: '  '"),
         "r.yaml:2: title: must not be empty"),
        (GOOD.replace("    description: The host\n", "    descripton: The host\n"),
         "r.yaml:7: variables.host.descripton: unknown variable field 'descripton'"),
        (GOOD + "format: 2\n", "r.yaml:10: format: unsupported format 2: this promptlib reads "
         "format 1"),
        (GOOD + "shared_from: nowhere\n",
         "r.yaml:10: shared_from: must be '<collection>/<name>'"),
        (GOOD.replace("    description: The host\n",
                      "    description: The host\n    truncate: tail\n"),
         "r.yaml:8: variables.host.truncate: only makes sense with max_chars"),
        (GOOD.replace("    description: The host\n",
                      "    choices: [a, b]\n    default: c\n"),
         "r.yaml:8: variables.host.default: default 'c' is not one of the choices"),
        (GOOD.replace("    description: The host\n", "    max_chars: -3\n"),
         "r.yaml:7: variables.host.max_chars: must be a positive whole number"),
        (GOOD.replace("  host:\n", "  range:\n"),
         "r.yaml:6: variables.range: invalid variable name 'range': use a letter or _ then "
         "letters, digits or _ (not a Jinja2 builtin)"),
        ("- just\n- a list\n", "r.yaml:1: a recipe must be a YAML mapping of fields"),
        ("", "r.yaml: empty file: a recipe is a YAML mapping"),
    ],
)
def test_each_rule_names_file_line_and_field(text: str, expected: str):
    assert load_error(text) == expected


def test_two_stdin_variables_are_refused():
    text = recipe_yaml(
        template="{{ a }}{{ b }}\n",
        variables="variables:\n  a:\n    stdin: true\n  b:\n    stdin: true\n",
    )
    assert "only one variable may take stdin ('a' already does)" in load_error(text)


def test_python_tags_never_run_code(tmp_path):
    marker = tmp_path / "pwned"
    text = GOOD + f'format: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert load_error(text) == ("r.yaml:10: format: unsupported YAML tag "
                                "'tag:yaml.org,2002:python/object/apply:os.system': "
                                "use a plain value")
    assert not marker.exists()


def test_alias_bomb_is_refused_at_the_first_anchor():
    bomb = "a: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\n"
    assert load_error(bomb) == "r.yaml:1: YAML anchors and aliases are not allowed (&a)"


def test_an_unused_anchor_is_refused_too():
    assert "anchors and aliases are not allowed (&t)" in load_error(
        GOOD.replace("title: Triage", "title: &t Triage"))


def test_tab_indentation_is_explained():
    assert "a tab: indent with spaces" in load_error(GOOD.replace("  host:", "\thost:"))


def test_several_documents_are_refused():
    assert "holds one YAML document" in load_error(GOOD + "---\nname: other\n")


def test_invalid_utf8_names_the_line():
    assert load_error(b"name: x\ntitle: caf\xe9\n") == (
        "r.yaml:2: not valid UTF-8 (byte 0xe9 at offset 18)")


def test_oversized_file_is_refused_before_parsing():
    assert load_error(b"#" * (256 * 1024 + 1)) == (
        "r.yaml: file is larger than 256 KiB, the limit for a recipe")


def test_timestamps_and_other_tags_are_not_plain_values():
    text = GOOD.replace("    description: The host\n", "    default: 2024-01-01\n")
    assert "unsupported YAML tag 'tag:yaml.org,2002:timestamp'" in load_error(text)


@pytest.mark.parametrize("escape", ["\\e]52;c;ZWNobyBwd25lZA==\\a", "\\e[2J", "\\x9b31m", "\\x00"])
def test_control_characters_are_refused_anywhere(escape: str):
    text = GOOD.replace("title: Triage a full disk", f'title: "Triage {escape}"')
    assert "r.yaml:2: title: control character U+" in load_error(text)
    text = GOOD.replace("    description: The host\n", f'    default: "x{escape}"\n')
    assert "variables.host.default: control character U+" in load_error(text)


def test_file_name_must_match_name():
    with pytest.raises(RecipeError, match=r"does not match the file name 'other\.yaml'"):
        recipe.load(GOOD.encode(), path="x/other.yaml", expected_name="other")


def test_dump_round_trips():
    r = recipe.loads(recipe_yaml(
        template="Host {{ host }}\n{% if level %}level {{ level }}{% endif %}\n",
        variables=("variables:\n  host:\n    description: The host\n    stdin: true\n"
                   "    max_chars: 10\n    truncate: middle\n"
                   "  level:\n    choices: [low, high]\n    default: low\n"),
        extra="examples:\n  - vars: {host: web}\n    expect: [web]\nauthor: A <a@b.c>\n",
    ))
    assert recipe.loads(r.dump()) == r


@given(st.text(max_size=80))
def test_name_rule_matches_the_design_regex(name: str):
    import re

    expected = re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?", name) is not None
    assert recipe.is_valid_name(name) == expected
    if not expected:
        with pytest.raises(InvalidError):
            recipe.check_name(name)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "UPPER", "a b", "-rf", "ｌｏｇ",
                                  "lo\u200bg", "a\x00b", "a\nb", "", "a" * 65, "trailing-"])
def test_hostile_names_are_invalid(name: str):
    with pytest.raises(InvalidError):
        recipe.check_name(name)


_words = st.text(alphabet="abcdefghij klmnop-_.,:!?{}%#'\"\n", min_size=1, max_size=60)


@given(
    title=st.text(alphabet="abcdefgh XYZ.,:'\"-", min_size=1, max_size=40).filter(
        lambda s: s.strip() != ""),
    description=_words.filter(lambda s: s.strip() != ""),
    default=st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cc", "Cs")),
                                         max_size=20), st.integers(), st.booleans()),
    body=_words,
)
def test_dump_then_load_is_identity(title: str, description: str, default: object, body: str):
    variable = recipe.Variable(name="value", description="d", required=default is None,
                               default=default)  # type: ignore[arg-type]
    r = recipe.Recipe(name="round-trip", title=title.strip(), description=description.strip(),
                      tags=("incident-response",), template=body + "{{ value }}\n",
                      variables=(variable,))
    assert recipe.loads(r.dump()) == r


# The loader composes with its own class (CSafeLoader's parser and resolver, each short scalar's
# tag remembered): it must give the very node tree CSafeLoader gives, tags, values and lines.
_TRICKY = """\
name: n
plain: [true, True, yes, no, ~, null, '', "", 0x1f, 0o17, 1_000, 1:30, .inf, -.nan, 1e3, 2024-01-02]
quoted: ['true', "20000", 'null']
explicit: [!!str 1, !!int "2", !!float '3', !!bool "true"]
block: |
  {{ x }} true
folded: >
  20000
long: this plain value is longer than sixty-four characters, so it is never remembered at all
nested: {a: {b: [1, {c: d}]}, ? [k]: v}
"""


def _tree(node):
    value = node.value
    if isinstance(value, list):
        value = [tuple(_tree(n) for n in item) if isinstance(item, tuple) else _tree(item)
                 for item in value]
    return (type(node).__name__, node.tag, value, node.start_mark.line, node.start_mark.column,
            node.end_mark.line, getattr(node, "style", None))


def test_the_loader_composes_the_tree_csafeloader_composes():
    import yaml

    from promptlib.recipe import loader

    for _ in range(2):  # the second time from the remembered tags
        ours = yaml.compose(_TRICKY, Loader=loader._loader_class())
        theirs = yaml.compose(_TRICKY, Loader=yaml.CSafeLoader)
        assert _tree(ours) == _tree(theirs)
