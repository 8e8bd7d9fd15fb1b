"""team add/list/remove/usage: team collections (git clones of a team's shared repository)."""

from __future__ import annotations

from promptlib.cli.app import app, new_app

team_app = new_app("Team collections: git clones of a team's shared recipe repository.")
app.add_typer(team_app, name="team")
