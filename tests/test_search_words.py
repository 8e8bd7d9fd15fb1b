"""Words as people type them: compounds and case split in the index and the query, prefixes for
short words, the synonym table (shipped and a collection's own), typo correction only for real
typos, and the fallback to the recipes holding most of the words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from promptlib import paths
from promptlib.index import search, synonyms, terms, typos
from promptlib.index.query import Group, Term, plan
from promptlib.store import collections as store
from tests.conftest import recipe_yaml, write_tree


def ids(*words: str) -> list[str]:
    return [h.id for h in search.search(list(words)).hits]


def local(home: Path) -> Path:
    return home / "collections" / "local"


def add_recipe(home: Path, name: str, template: str, tags: str = "[incident-response]") -> None:
    store.ensure_home()
    write_tree(local(home), {f"x/{name}.yaml": recipe_yaml(name, tags=tags, template=template)})


# --- compounds and case -------------------------------------------------------------------------


def test_index_text_adds_the_parts_of_mixed_case_words_and_the_joins_of_hyphenated_ones():
    text = terms.index_text("Reason: OOMKilled, CrashLoopBackOff on-call tier1 k8s 5xx")
    original, extra = text.split("\n")
    assert original == "Reason: OOMKilled, CrashLoopBackOff on-call tier1 k8s 5xx"
    assert extra.split() == ["OOM", "Killed", "Crash", "Loop", "Back", "Off", "tier", "1",
                             "oncall"]
    assert terms.index_text("plain words stay as they are") == "plain words stay as they are"


# Word pieces that make compounds, case changes, glue words and the odd non-ASCII letter or digit.
_PIECES = [*"aAzZ09-_ .\n\té²", "on", "the", "OOM", "Killed", "tier"]
_FIELD = st.lists(st.sampled_from(_PIECES), max_size=10).map("".join)


@given(st.lists(_FIELD, min_size=1, max_size=4))
def test_index_fields_is_index_text_of_each_field_and_of_them_joined(fields):
    # The build writes both from one pass; `_forget_files` deletes with index_text of the joined
    # fields, so the two must agree to the character (`SEV1` is split only beside a hint).
    each, joined = terms.index_fields(fields)
    assert each == [terms.index_text(f) for f in fields]
    assert joined == terms.index_text(" ".join(fields))


def test_index_fields_splits_an_upper_case_word_as_the_joined_text_does():
    each, joined = terms.index_fields(["SEV1 page", "OOMKilled"])
    assert each == ["SEV1 page", "OOMKilled\nOOM Killed"]
    assert joined == "SEV1 page OOMKilled\nSEV 1 OOM Killed"


def test_forms_of_a_typed_word():
    assert terms.forms("post-mortem") == [("post", "mortem"), ("postmortem",)]
    assert terms.forms("OOMKilled") == [("oom", "killed")]
    assert terms.forms("k8s") == []
    assert terms.forms("sev1") == [("sev", "1")]


def test_case_and_compounds_are_found_both_ways(home):
    add_recipe(home, "java-pool", "Saw IllegalStateException in {{ host }} during the on-call "
                                  "shift; a stack-trace came with it.\n")
    assert "local/java-pool" in ids("illegal", "state")  # the parts of IllegalStateException
    assert "local/java-pool" in ids("IllegalStateException")
    assert "local/java-pool" in ids("oncall")  # on-call, joined
    assert "local/java-pool" in ids("stack-trace")
    assert "local/java-pool" in ids("illegal-state")  # typed hyphenated: the phrase of its parts


# --- prefixes -----------------------------------------------------------------------------------


def group(word: str) -> Group:
    return plan([Term(word, "word")], synonyms.load({}))[0]


def test_short_words_match_as_prefixes_but_not_english_words_numeronyms_or_known_words(home):
    assert group("infra").prefix  # no synonyms, not an English word
    assert not group("k8s").prefix  # a digit: a numeronym, not the start of a word
    assert not group("tell").prefix  # an English word means itself
    assert not group("cert").prefix  # the synonym table knows it: certificate, tls, ssl…
    assert not group("configuration").prefix  # long words are typed in full
    add_recipe(home, "infra-costs", "Review the infrastructure of {{ host }}.\n")
    assert "local/infra-costs" in ids("infra")


# --- synonyms -----------------------------------------------------------------------------------


def test_the_shipped_table_is_valid_and_knows_the_ops_words():
    entries = synonyms.read_file(synonyms.package_file(), "synonyms.yaml")
    table = synonyms.merge(entries.same, entries.also)
    assert "kubernetes" in table["k8s"]
    assert {"tls", "certificate"} <= set(table["ssl"])
    assert {"stack trace", "exception"} <= set(table["traceback"])
    assert "handover" in table["handoff"]
    assert "oncall" in table["on call"]
    assert "crm" in table["salesforce"]
    assert "salesforce" not in table.get("crm", [])  # `also` is one way


def test_a_collection_adds_its_own_synonyms_in_a_committed_file(home):
    add_recipe(home, "gizmo-reboot", "Reboot the gizmo on {{ host }}.\n")
    assert ids("widget") == []
    write_tree(local(home), {".promptlib/synonyms.yaml": "same:\n  - [widget, gizmo]\n"})
    assert "local/gizmo-reboot" in ids("widget")
    # Editing the file takes effect on the next search (the cache follows the file's stat).
    write_tree(local(home), {".promptlib/synonyms.yaml": "also:\n  doohickey: [gizmo]\n"})
    assert "local/gizmo-reboot" in ids("doohickey")
    assert ids("widget") == []


def test_a_broken_synonyms_file_is_named_with_its_line_and_the_search_goes_on(cli, home):
    store.ensure_home()
    write_tree(local(home), {".promptlib/synonyms.yaml": "same:\n  - [k8s]\n"})
    result = cli("search", "logs")
    assert result.exit_code == 0, result.output
    assert ("warning: skipped local/.promptlib/synonyms.yaml:2: a line of `same` needs at "
            "least two words") in result.stderr
    assert "local/log-triage" in result.stdout
    for text, problem in [("same: [a, b]\n", "expected a list of words, like [k8s, kubernetes]"),
                          ("x: &a [b]\n", "anchors and aliases are not allowed"),
                          ("same:\n  - [ok, 'a b c d e']\n", "a phrase of at most 4 words"),
                          ("nope: 1\n", "unknown or repeated key 'nope'")]:
        write_tree(local(home), {".promptlib/synonyms.yaml": text})
        assert problem in str(search.search(["logs"]).problems[0])


def test_a_search_with_a_warm_cache_never_imports_yaml(home):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-X", "importtime", "-m", "promptlib", "search", "k8s", "pod"]
    subprocess.run(command, env=env, capture_output=True, check=True)  # builds index and cache
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert "kubernetes-crashloop" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "promptlib.index.synonyms" in imported
    assert "yaml" not in imported
    assert paths.synonyms_cache_file().is_file()


# --- typos --------------------------------------------------------------------------------------


def test_words_are_never_corrected(home):
    results = search.search(["weather"])  # English, in no recipe: nothing, and no "did you mean"
    assert (results.hits, results.note) == ([], None)
    table = synonyms.load({})
    assert typos.in_dictionary("restarted")  # restart, with an ending
    assert typos.in_dictionary("replies")
    assert typos.in_dictionary("ssl")
    assert not typos.in_dictionary("kubrenetes")
    assert table.lookup(("handoffs",)) is not None  # a plural of an entry


def test_a_correction_must_find_more_than_the_query_as_typed(home):
    # `refund` matches; `kubrenetes` corrected to `kubernetes` still finds no recipe with both,
    # so the query stays as typed and falls back to the recipes with most of the words.
    results = search.search(["refund", "kubrenetes"])
    assert results.notes == ("no recipe has all of refund, kubrenetes; "
                             "showing recipes with most of them",)
    assert results.hits[0].name == "refund-request-reply"
    # `kubrenetes pod`: the correction finds recipes with both words, which beats one of two.
    corrected = search.search(["kubrenetes", "pod"])
    assert corrected.notes == ("showing results for kubernetes pod",)
    assert corrected.hits[0].name == "kubernetes-crashloop"


def test_a_quoted_phrase_no_recipe_holds_falls_back_to_its_words(home):
    results = search.search(["customer wants to cancel"])  # one argument: quoted in the shell
    assert results.hits[0].name == "churn-risk-reply"


def test_stopwords_are_not_needed_unless_they_are_all_there_is(home):
    assert ids("how", "to", "explain", "a", "stack", "trace")[0] == "local/stack-trace-explain"
    assert len(ids("the")) > 0
