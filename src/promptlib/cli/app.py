"""The Typer app: every command, registered here, top-down, in the order `--help` lists them.

Each command is a thin function in a module by concern (`recipes`, `search_cmd`, `render_cmd`,
`pick_cmd`, `completion_cmd`, `teams`, `sync_cmd`, `metrics_cmd`); none of them knows this app.
The root callback only answers `--version`. A new command is a function in
one of those modules (or a new one) and a line here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from promptlib.cli import (
    completion_cmd,
    mcp_cmd,
    metrics_cmd,
    pick_cmd,
    recipes,
    redact_cmd,
    render_cmd,
    search_cmd,
    sync_cmd,
    teams,
    transfer_cmd,
    versions_cmd,
)
from promptlib.cli.group import new_app

app = new_app(
    "promptlib: keep the LLM prompts that work, find them in a second, fill them with a pasted "
    "log, and share them between teams through git.",
)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --version: version, Python, git "
                                          "and platform as JSON, for bug reports.")] = False,
) -> None:
    if version:
        from promptlib.cli.about import print_version  # noqa: PLC0415  (only --version)

        print_version(as_json=as_json)
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        raise typer.BadParameter("--json on its own is only for --version", param_hint="--json")


# Every day: finding and using recipes, writing them. `--help` lists the sections in this order.
EVERYDAY, SHARING, MEASURING = "Every day", "Sharing with teams", "Measuring adoption"
app.command(rich_help_panel=EVERYDAY)(search_cmd.search)
app.command(rich_help_panel=EVERYDAY)(render_cmd.render)
app.command(rich_help_panel=EVERYDAY)(redact_cmd.redact)
app.command(rich_help_panel=EVERYDAY)(pick_cmd.pick)
app.command(rich_help_panel=EVERYDAY)(recipes.add)
app.command(rich_help_panel=EVERYDAY)(recipes.show)
app.command("list", rich_help_panel=EVERYDAY)(recipes.list_cmd)
app.command(rich_help_panel=EVERYDAY)(recipes.tags)
app.command("edit", rich_help_panel=EVERYDAY)(recipes.edit_cmd)
app.command(rich_help_panel=EVERYDAY)(recipes.remove)
app.command(rich_help_panel=EVERYDAY)(recipes.history)
# Versions: compare, roll back, label.
app.command(rich_help_panel=EVERYDAY)(versions_cmd.diff)
app.command(rich_help_panel=EVERYDAY)(versions_cmd.restore)
app.command(rich_help_panel=EVERYDAY)(versions_cmd.tag)
app.command(rich_help_panel=EVERYDAY)(recipes.lint)
app.command(rich_help_panel=EVERYDAY)(recipes.init)
app.command(rich_help_panel=EVERYDAY)(completion_cmd.completion)
# Other tools' prompt files in and out.
app.command("import", rich_help_panel=EVERYDAY)(transfer_cmd.import_cmd)
app.command("export", rich_help_panel=EVERYDAY)(transfer_cmd.export_cmd)

# Sharing with teams.
team_app = new_app("Team collections: git clones of a team's shared recipe repository.")
# `ignore_unknown_options`: a URL such as `--upload-pack=…` arrives as the URL and is refused by
# the allowlist with exit 4, instead of being mistaken for an option of ours.
team_app.command("add", context_settings={"ignore_unknown_options": True})(teams.team_add)
team_app.command("list")(teams.team_list)
team_app.command("remove")(teams.team_remove)
team_app.command("usage")(metrics_cmd.team_usage)
app.add_typer(team_app, name="team", rich_help_panel=SHARING)
app.command(rich_help_panel=SHARING)(sync_cmd.pull)
app.command(rich_help_panel=SHARING)(sync_cmd.push)
app.command(rich_help_panel=SHARING)(sync_cmd.share)
app.command(rich_help_panel=SHARING)(sync_cmd.resolve)

# Measuring adoption.
app.command(rich_help_panel=MEASURING)(metrics_cmd.win)
app.command(rich_help_panel=MEASURING)(metrics_cmd.report)

# Serving the library to MCP clients (Claude Code, Claude Desktop, VS Code, …).
app.command(rich_help_panel=SHARING)(mcp_cmd.mcp)
