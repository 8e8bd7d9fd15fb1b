"""Search: query syntax, ranking and relevance on the starter library, typo tolerance, and the
`search` command's output."""

from __future__ import annotations

import json
import subprocess

import pytest

from promptlib.index import search
from promptlib.index.search import Term, parse_query
from promptlib.index.typos import edit_distance
from promptlib.store import collections as store
from tests.conftest import recipe_yaml, write_tree


def ids(*query: str, **kwargs: object) -> list[str]:
    return [h.id for h in search.search(list(query), **kwargs).hits]  # type: ignore[arg-type]


# --- query syntax ---------------------------------------------------------------------------------


def test_parse_query_words_phrases_prefixes_and_filters():
    parsed = parse_query(['"stack trace" log*', "tag:incident-response", "team:sre", "java"])
    assert parsed.terms == [Term("stack trace", "phrase"), Term("log", "prefix"),
                            Term("java", "word")]
    assert parsed.tags == ["incident-response"]
    assert parsed.teams == ["sre"]


def test_an_argument_with_spaces_was_quoted_in_the_shell_so_it_is_a_phrase():
    assert parse_query(["stack  trace"]).terms == [Term("stack trace", "phrase")]
    assert parse_query(["stack", "trace"]).terms == [Term("stack", "word"), Term("trace", "word")]


def test_terms_without_letters_are_dropped_and_quotes_are_escaped():
    assert parse_query(["*", "-", "..."]).terms == []
    assert Term('say "hi', "word").fts() == '"say ""hi"'
    assert Term("log", "prefix").fts() == '"log"*'


def test_edit_distance_counts_swaps_once_and_stops_early():
    assert edit_distance("kubrenetes", "kubernetes", 2) == 1
    assert edit_distance("crashlop", "crashloop", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # over the limit: limit + 1
    assert edit_distance("same", "same", 0) == 0


# --- relevance on the starter library (issue #4, "Done when") ------------------------------------


def test_logs_has_log_triage_in_the_top_three(home):
    assert "local/log-triage" in ids("logs")[:3]


def test_stack_trace_phrase_puts_the_stack_trace_recipe_first(home):
    assert ids("stack trace")[0] == "local/stack-trace-explain"
    assert ids('"stack trace"')[0] == "local/stack-trace-explain"


def test_crashloop_and_a_typo_of_kubernetes_both_find_the_crashloop_recipe(home):
    assert ids("crashloop")[0] == "local/kubernetes-crashloop"
    assert ids("kubernets")[0] == "local/kubernetes-crashloop"


def test_tag_option_lists_only_that_use_case(home):
    found = search.search([], tags=["ticket-deflection"]).hits
    assert found
    assert all("ticket-deflection" in h.tags for h in found)
    starter = [rf for c in store.collections() for rf in store.iter_recipe_files(c)
               if rf.relpath.startswith("ticket-deflection/")]
    assert len(found) == len(starter)


# --- query features -------------------------------------------------------------------------------


def test_all_words_must_match_before_any_fallback(home):
    both = search.search(["kubernetes", "pod"])
    assert "local/kubernetes-crashloop" in [h.id for h in both.hits]
    assert both.notes == ()
    assert all(h.words_matched == h.words == 2 for h in both.hits)


def test_when_no_recipe_has_every_word_the_ones_with_most_of_them_come_first(home):
    results = search.search(["kubernetes", "refund", "pod"])
    assert results.notes == ("no recipe has all of kubernetes, refund, pod; "
                             "showing recipes with most of them",)
    matched = [h.words_matched for h in results.hits]
    assert results.hits[0].id == "local/kubernetes-crashloop"  # kubernetes and pod
    assert matched == sorted(matched, reverse=True)
    assert matched[0] == 2
    assert {h.words for h in results.hits} == {3}
    assert "local/refund-request-reply" in [h.id for h in results.hits if h.words_matched == 1]


def test_prefix_query(home):
    assert "local/kubernetes-crashloop" in ids("kubern*")
    # A bare word of six letters is no prefix: found only as the typo of a word (`kube`).
    assert search.search(["kubern"]).note == "showing results for kube"


def test_tag_and_team_filters_in_the_query_and_as_options(home):
    store.ensure_home()
    team = home / "collections" / "sre"
    subprocess.run(["git", "init", "--quiet", str(team)], check=True)
    write_tree(team, {"logs/log-shipper.yaml": recipe_yaml(
        "log-shipper", tags="[incident-response, logs]", template="Logs from {{ host }}.\n")})
    assert ids("logs", "team:sre") == ["sre/log-shipper"]
    assert ids("logs", teams=["sre"]) == ["sre/log-shipper"]
    in_local = ids("logs", "tag:script-generation")
    assert in_local
    assert all(i.startswith("local/") for i in in_local)
    assert "local/log-parsing-script" in in_local
    assert ids("logs", tags=["script-generation", "python"]) == ["local/log-parsing-script"]
    assert "sre/log-shipper" in ids("logs", limit=100)


def test_limit(home):
    assert len(ids("the", limit=3)) == 3


def test_typo_retry_says_what_it_searched_for(home):
    results = search.search(["kubrenetes"])
    assert results.note == "showing results for kubernetes"
    assert results.hits[0].id == "local/kubernetes-crashloop"
    assert search.search(["kubernetes"]).note is None


def test_typo_retry_keeps_the_words_that_matched(home):
    results = search.search(["crashlop", "pod"])
    assert results.note == "showing results for crashloop pod"
    assert [h.id for h in results.hits] == ["local/kubernetes-crashloop"]


def test_nothing_close_means_no_hits_and_no_note(home):
    results = search.search(["qwxzvvb"])
    assert results.hits == []
    assert results.note is None


def test_hits_carry_a_snippet_with_the_matched_words_marked(home):
    hit = search.search(["stack", "trace"]).hits[0]
    assert search.MARK_START + "stack" in hit.marked.lower()
    assert search.MARK_START not in hit.snippet
    assert set(hit.to_dict()) == {"id", "collection", "name", "title", "tags", "score",
                                  "snippet", "score_parts"}
    assert hit.score > 0


# --- the command ----------------------------------------------------------------------------------


def test_search_json(cli, home):
    result = cli("search", "logs", "--json", "--limit", "2")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2
    assert hits[0]["id"] == "local/log-triage"
    assert hits[0]["collection"] == "local"
    assert hits[0]["name"] == "log-triage"
    assert "logs" in hits[0]["tags"]
    assert hits[0]["score"] >= hits[1]["score"]


def test_search_text_output_shows_id_title_tags_and_snippet(cli, home):
    result = cli("search", "stack", "trace", "-n", "1")
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert first == ("local/stack-trace-explain  Explain a stack trace  "
                     "[incident-response, stack-trace, debugging, exceptions]")
    assert second.startswith("    ")
    assert "stack trace" in second.lower()


def test_no_hits_exit_zero_with_a_hint(cli, home):
    result = cli("search", "qwxzvvb")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no recipes match" in result.stderr


def test_typo_note_goes_to_stderr(cli, home):
    result = cli("search", "kubrenetes", "--json")
    assert result.exit_code == 0, result.output
    assert "showing results for kubernetes" in result.stderr
    assert json.loads(result.stdout)[0]["id"] == "local/kubernetes-crashloop"


def test_unknown_or_invalid_team_fails_with_the_usual_codes(cli, home):
    missing = cli("search", "logs", "--team", "nope")
    assert missing.exit_code == 3, missing.output
    assert "no collection named 'nope'" in missing.stderr
    invalid = cli("search", "logs", "team:Not_Valid")
    assert invalid.exit_code == 4, invalid.output


def test_bad_recipe_is_warned_once_and_does_not_stop_the_search(cli, home):
    cli("list")
    write_tree(home / "collections" / "local", {"x/broken.yaml": "name: broken\n"})
    result = cli("search", "logs")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("broken.yaml") == 1
    assert "warning: skipped local/x/broken.yaml" in result.stderr
    assert "local/log-triage" in result.stdout


@pytest.mark.parametrize("query", ["logs", "stack trace", "kubrenetes", "tag:sales"])
def test_json_ids_match_text_ids(cli, home, query):
    as_json = [h["id"] for h in json.loads(cli("search", query, "--json").stdout)]
    as_text = [line.split()[0] for line in cli("search", query).stdout.splitlines()
               if not line.startswith(" ")]
    assert as_json == as_text
    assert as_json


def test_tag_filters_ignore_case(home):
    assert ids("logs", tags=["Script-Generation"]) == ids("logs", "tag:SCRIPT-GENERATION")
    assert ids("logs", tags=["Script-Generation"])


def test_control_characters_in_a_recipe_never_reach_the_terminal(cli, home):
    cli("list")
    write_tree(home / "collections" / "local", {"x/evil.yaml": recipe_yaml(
        "evil", extra="").replace("title: Triage a full disk",
                                  'title: "Evil \\e[2J\\e]0;pwned\\a title"')})
    result = cli("search", "evil")
    # The loader refuses the file (control characters are not allowed in a recipe); the
    # warning names it, and nothing of its title reaches the terminal.
    assert "local/x/evil.yaml:2: title: control character U+001B is not allowed" in result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "\x07" not in result.stdout + result.stderr
    assert json.loads(cli("search", "evil", "--json").stdout) == []
