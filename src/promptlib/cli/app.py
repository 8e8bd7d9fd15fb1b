"""The Typer app: every command, registered here, top-down, in the order `--help` lists them.

Each command is a thin function in a module by concern (`recipes`, `search_cmd`, `render_cmd`,
`teams`, `sync_cmd`, `metrics_cmd`); none of them knows this app. A new command is a function in
one of those modules (or a new one) and a line here.
"""

from __future__ import annotations

from promptlib.cli import mcp_cmd, metrics_cmd, recipes, render_cmd, search_cmd, sync_cmd, teams
from promptlib.cli.group import new_app

app = new_app(
    "promptlib: keep the LLM prompts that work, find them in a second, fill them with a pasted "
    "log, and share them between teams through git.",
)

# Finding and using recipes.
app.command()(search_cmd.search)
app.command()(render_cmd.render)
app.command()(recipes.show)
app.command("list")(recipes.list_cmd)
app.command()(recipes.tags)
# Writing them.
app.command()(recipes.add)
app.command("edit")(recipes.edit_cmd)
app.command()(recipes.remove)
app.command()(recipes.history)
app.command()(recipes.lint)
app.command()(recipes.init)

# Sharing with teams.
team_app = new_app("Team collections: git clones of a team's shared recipe repository.")
# `ignore_unknown_options`: a URL such as `--upload-pack=…` arrives as the URL and is refused by
# the allowlist with exit 4, instead of being mistaken for an option of ours.
team_app.command("add", context_settings={"ignore_unknown_options": True})(teams.team_add)
team_app.command("list")(teams.team_list)
team_app.command("remove")(teams.team_remove)
team_app.command("usage")(metrics_cmd.team_usage)
app.add_typer(team_app, name="team")
app.command()(sync_cmd.pull)
app.command()(sync_cmd.push)
app.command()(sync_cmd.share)
app.command()(sync_cmd.resolve)

# Measuring adoption.
app.command()(metrics_cmd.win)
app.command()(metrics_cmd.report)

# Serving the library to MCP clients (Claude Code, Claude Desktop, VS Code, …).
app.command()(mcp_cmd.mcp)
