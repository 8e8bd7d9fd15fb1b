"""Sharing between teams: pull, push and share (`core`), team collections (`teams`), conflict
bookkeeping (`conflicts`) and `resolve` above it, reports and state (`state`), and checks on
what a pulled tree holds (`tree`)."""
