"""The bounded Jinja2 worker: `api` (render, analyse, check), `env` (the sandboxed environment and
its interceptors), `worker` (fork, rlimits, pipe), `limits` (size bounds) and `forkserver` (a
small process that forks the workers of a big one)."""
