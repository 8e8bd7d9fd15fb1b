"""The SQLite FTS5 index (`db`), how it is built (`build`) and kept fresh without git (`fresh`),
and ranked search over it (`search`). Never imports YAML, git or Jinja2 on a search."""
