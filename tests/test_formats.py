"""Each format read from files written from its published spec (tests/fixtures/formats/…):
what becomes a variable, what stays literal, roles, descriptions, examples, and what is
reported as not mapped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptlib.catalog import transfer
from promptlib.catalog.formats import handlebars, jinja, text
from promptlib.catalog.formats.base import UnexpressibleError, UnsupportedError
from promptlib.render.fill import render_example
from promptlib.store import collections as store

FIXTURES = Path(__file__).parent / "fixtures" / "formats"


def imported(fmt: str, path: Path, **kwargs: Any) -> tuple[transfer.ImportReport, dict[str, Any]]:
    """Import into a collection of its own; the report and {name: Recipe}."""
    report = transfer.import_files(fmt, [str(path)], to=f"from-{fmt}", **kwargs)
    coll = store.collection(f"from-{fmt}")
    return report, {rf.name: store.read(rf) for rf in store.iter_recipe_files(coll)}


def by_source(report: transfer.ImportReport, fragment: str) -> transfer.Item:
    return next(item for item in report.items if fragment in item.source)


# --- fabric ---------------------------------------------------------------------------------------


def test_fabric_literal_braces_stay_literal_and_only_the_input_is_a_variable():
    _, recipes = imported("fabric", FIXTURES / "fabric" / "patterns")
    nuclei = recipes["write-nuclei-rule"]
    assert [v.name for v in nuclei.variables] == ["input"]
    assert nuclei.stdin_variable is not None
    text_out = render_example(nuclei, {"input": "CVE-2024-0001 in acme"})
    for literal in ("{{BaseURL}}", "{{Hostname}}", "{{a1}}", "`{{ text }}`", "{{}}",
                    "{{ expression.", "{% raw %}", '{{hex_encode(aes_gcm("AES256Key", '
                    '"exampleplaintext"))}}', "{{<expression>}}"):
        assert literal in text_out
    # fabric appends the input when the pattern does not place it
    assert text_out.endswith("INPUT:\nCVE-2024-0001 in acme")


def test_fabric_descriptions_and_tags_come_from_pattern_descriptions_json():
    _, recipes = imported("fabric", FIXTURES / "fabric" / "patterns", tags=["incident-response"])
    summary = recipes["summarize-incident"]
    assert summary.title == "Summarize incident"
    assert summary.description == "Summarize an incident channel log for the on-call handover."
    assert summary.tags == ("incident-response", "devops", "summarize", "fabric")
    nuclei = recipes["write-nuclei-rule"]
    assert nuclei.tags == ("incident-response", "security", "cr-thinking", "fabric")
    # without an entry: the first sentence of the pattern
    assert recipes["with-user-prompt"].description.startswith("You review shell scripts")


def test_fabric_variables_and_input_placement():
    _, recipes = imported("fabric", FIXTURES / "fabric" / "patterns")
    translate = recipes["translate-text"]
    assert {v.name for v in translate.variables} == {"lang_code", "input"}
    out = render_example(translate, {"lang_code": "fr", "input": "Hello"})
    assert "language with the code fr," in out
    assert "# TEXT\n\nHello\n\n# END" in out


def test_fabric_user_md_becomes_the_user_part_under_headings():
    report, recipes = imported("fabric", FIXTURES / "fabric" / "patterns")
    out = render_example(recipes["with-user-prompt"], {"input": "rm -rf $DIR/"})
    assert out.startswith("## System\n\nYou review shell scripts")
    assert out.endswith("## User\n\nReview this script:\nrm -rf $DIR/\n")
    assert any("user.md" in n for n in by_source(report, "with_user_prompt").notes)


def test_fabric_skips_say_why_and_plugins_are_reported():
    report, _ = imported("fabric", FIXTURES / "fabric" / "patterns")
    assert by_source(report, "empty_pattern").reason == "system.md is empty"
    assert by_source(report, "notes_only").reason == "no system.md: not a fabric pattern"
    plugin = by_source(report, "plugin_call")
    assert plugin.status == "imported"
    assert any("{{plugin:datetime:today}}" in n for n in plugin.notes)
    assert len(report.items) == 7  # every folder named


def test_fabric_checkout_root_finds_its_patterns_folder(tmp_path):
    from tests.conftest import write_tree

    write_tree(tmp_path / "fabric", {"README.md": "fabric\n", "cmd/main.go": "package main\n",
                                     "data/patterns/ai/system.md": "Answer briefly.\n"})
    report, recipes = imported("fabric", tmp_path / "fabric")
    assert list(recipes) == ["ai"]
    assert len(report.items) == 1


# --- llm ------------------------------------------------------------------------------------------


def test_llm_system_only_takes_the_input_as_the_user_message():
    _, recipes = imported("llm", FIXTURES / "llm")
    voice = recipes["voice-summary"]
    assert voice.variable("voice").default == "a calm SRE"
    out = render_example(voice, {"input": "the log"})
    assert out == ("## System\n\nSummarize this text in the voice of a calm SRE. Costs are in $ "
                   "(US dollars).\n\n## User\n\nthe log\n")


def test_llm_braced_variables_and_the_appended_input():
    report, recipes = imported("llm", FIXTURES / "llm")
    step = recipes["runbook-step"]
    out = render_example(step, {"service": "api", "step": "check", "input": "now"})
    assert "Write the checks for restarting api_worker safely.\n\nnow" in out
    notes = by_source(report, "runbook-step").notes
    assert any(n.startswith("options:") for n in notes)
    assert "extract: true" in notes
    summarize = recipes["summarize"]
    assert render_example(summarize, {"input": "ALERT"}).endswith("ten lines.\n\nALERT\n")
    assert by_source(report, "empty.yaml").reason.startswith("neither `prompt` nor `system`")


# --- Prompty --------------------------------------------------------------------------------------


def test_prompty_v1_roles_inputs_and_sample():
    report, recipes = imported("prompty", FIXTURES / "prompty")
    basic = recipes["basic-v1"]
    assert basic.title == "Basic Prompt"
    assert basic.tags == ("support", "faq", "prompty")
    assert basic.author == "Jane Doe"
    assert basic.variable("firstName").default == "there"
    assert basic.examples[0].vars == {"question": "How do I reset my password?",
                                      "firstName": "Ana"}
    out = render_example(basic, basic.examples[0].vars)
    assert out.startswith("## System\n\nYou are an AI assistant")
    assert out.endswith("## User\n\nHow do I reset my password?\n")
    item = by_source(report, "basic-v1")
    assert item.notes[0] == "read as Prompty v1"
    assert any(n.startswith("model:") for n in item.notes)


def test_prompty_v2_enums_defaults_optional_and_unused_inputs():
    report, recipes = imported("prompty", FIXTURES / "prompty")
    triage = recipes["triage-v2"]
    assert triage.variable("tone").choices == ("friendly", "formal")
    assert triage.variable("tone").default == "friendly"
    assert triage.variable("product").required is False
    assert triage.variable("unused_flag") is None
    item = by_source(report, "triage-v2")
    assert item.notes[0] == "read as Prompty v2"
    assert any("unused_flag" in n for n in item.notes)
    assert triage.examples[0].vars == {"ticket": "My invoice shows a double charge."}
    out = render_example(triage, {"ticket": "T", "product": "Billing"})
    assert "Reply in a friendly tone.\nThe ticket is about Billing." in out


def test_prompty_unmarked_body_is_one_message_and_mustache_is_skipped():
    report, recipes = imported("prompty", FIXTURES / "prompty")
    plain = recipes["plain-body"]
    assert plain.stdin_variable is not None
    assert plain.stdin_variable.name == "input"
    assert render_example(plain, {"input": "E1"}).startswith("Explain this error")
    assert "mustache" in by_source(report, "mustache").reason


# --- GitHub Models --------------------------------------------------------------------------------


def test_github_messages_test_data_and_evaluators():
    report, recipes = imported("github", FIXTURES / "github")
    ticket = recipes["summarize-ticket"]
    assert ticket.title == "Summarize a support ticket"
    assert [e.vars for e in ticket.examples] == [
        {"input": "The export button does nothing on Safari 17.", "area": "reporting"},
        {"input": "Login loops back to the sign-in page.", "area": "auth"}]
    out = render_example(ticket, ticket.examples[0].vars)
    assert out == ("## System\n\nYou summarize support tickets for engineers. Product area: "
                   "reporting.\n\n## User\n\nSummarize this ticket:\nThe export button does "
                   "nothing on Safari 17.\n")
    notes = by_source(report, "summarize-ticket").notes
    assert any(n.startswith("evaluators:") for n in notes)
    assert any("expected" in n for n in notes)


def test_github_spaced_braces_stay_literal():
    report, recipes = imported("github", FIXTURES / "github")
    vue = recipes["vue-help"]
    assert [v.name for v in vue.variables] == ["framework"]
    assert render_example(vue, {"framework": "Vue"}) == \
        "Explain what `{{ text }}` prints in this Vue component."
    assert by_source(report, "no-messages").status == "skipped"


# --- Dotprompt ------------------------------------------------------------------------------------


def test_dotprompt_picoschema_optional_fields_defaults_and_inline_ifs():
    _, recipes = imported("dotprompt", FIXTURES / "dotprompt")
    greeting = recipes["greeting"]
    assert greeting.variable("location").default == "a restaurant"
    assert greeting.variable("name").required is False
    assert render_example(greeting, {"name": "Ana"}).endswith(
        "Greet a guest named Ana.\n")
    assert render_example(greeting, {}).endswith("Greet a guest.\n")


def test_dotprompt_enum_roles_standalone_blocks_and_escapes():
    report, recipes = imported("dotprompt", FIXTURES / "dotprompt")
    brief = recipes["incident-brief"]
    assert brief.title == "Write an incident brief"
    assert brief.tags == ("incident-response", "communication", "dotprompt")
    assert brief.variable("severity").choices == ("sev1", "sev2", "sev3")
    assert brief.variable("severity").default == "sev2"
    # As Handlebars renders it: the block lines vanish, the comment renders nothing.
    assert render_example(brief, {"summary": "DB down"}) == (
        "## System\n\nYou write incident briefs for executives. \n"
        "Never use the literal placeholder {{customer}} in the output.\n\n"
        "## User\n\nSeverity: sev2\nNo customer impact was reported.\nSummary: DB down\n")
    assert "Customer impact: EU users\nSummary" in render_example(
        brief, {"summary": "DB down", "customer_impact": "EU users"})
    assert any(n.startswith("output:") for n in by_source(report, "incident-brief").notes)


def test_dotprompt_each_over_an_array_input(tmp_path):
    source = tmp_path / "checklist.prompt"
    source.write_text("---\ninput:\n  schema:\n    items(array, Steps to check): string\n---\n"
                      "Check these:\n{{#each items}}\n- {{this}} ({{@index}})\n{{/each}}\nDone.\n")
    _, recipes = imported("dotprompt", source)
    checklist = recipes["checklist"]
    assert checklist.variable("items").description == "Steps to check"
    assert render_example(checklist, {"items": ["disk", "dns"]}) == \
        "Check these:\n- disk (0)\n- dns (1)\nDone.\n"


def test_dotprompt_json_schema_and_refusals():
    report, recipes = imported("dotprompt", FIXTURES / "dotprompt")
    search = recipes["json-schema"]
    assert search.variable("limit").default == 5
    assert search.variable("query").required is True
    assert "{{>header}}" in by_source(report, "with-partial").reason
    assert "object" in by_source(report, "object-input").reason


# --- the pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["{{x}}", "a {{ b }} c", "{% if %}", "{#", "{{", "x{",
                                    "{% endraw %}{{y}}", "}}{{", "{{{z}}}"])
def test_literal_renders_as_itself(source):
    from promptlib.sandbox import api as sandbox

    assert sandbox.render_template(text.literal(source) + "{{ v }}", {"v": "!"}) == source + "!"


def test_messages_split_back_only_from_a_leading_heading():
    joined = text.join_messages([("system", "S\n\n## Steps\n1."), ("user", "U")],
                                plain_role="user")
    assert text.split_messages(joined, plain_role="user") == [
        ("system", "S\n\n## Steps\n1."), ("user", "U")]
    assert text.split_messages("Intro\n## User\nx\n", plain_role="user") == [
        ("user", "Intro\n## User\nx\n")]


def test_handlebars_round_trip_keeps_the_rendered_text():
    from promptlib.sandbox import api as sandbox

    template = ("A\n{% if c %}\nB {{ v }}\n{% else %}\nC\n{% endif %}\n"
                "D{% if not c %} E{% endif %}\n")
    back = handlebars.to_jinja(handlebars.from_jinja(template))
    assert len(back) == 1
    for values in ({"c": "yes", "v": "1"}, {"c": "", "v": "1"}):
        assert sandbox.render_template(back[0][1], values) == \
            sandbox.render_template(template, values)


def test_unsupported_jinja_is_refused_with_what_it_met():
    with pytest.raises(UnexpressibleError, match=r"\{\{ x \| upper \}\}"):
        jinja.parts("{{ x | upper }}")
    with pytest.raises(UnexpressibleError, match="for"):
        jinja.parts("{% for x in y %}{% endfor %}")
    with pytest.raises(UnexpressibleError, match="control flow"):
        jinja.variables_only(jinja.parts("{% if a %}b{% endif %}"), "llm")
    with pytest.raises(UnsupportedError, match="never closed"):
        handlebars.to_jinja("{{#if a}}b")
