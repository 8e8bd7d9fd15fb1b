"""The bounded Jinja2 worker: `api` (render, analyse, check), `env` (the sandboxed environment and
its interceptors), `worker` (fork, rlimits, pipe) and `limits` (size bounds)."""
