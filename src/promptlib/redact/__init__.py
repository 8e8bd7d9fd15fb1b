"""The secret detector used by render, redact, lint, add and push. Pure: no I/O but the
allow-list file read (allow.py).

`detector` is the API (find_secrets, redact, summary). Beneath it: `registry` (every detector,
in rank order), `prefilter` (which detectors a text can wake), `rules` (the Rule record and
the placeholder checks), the token tables `patterns` and `services`, `structured` (key blocks,
AWS pairs, JWTs, auth headers, URL passwords), `keyvalues` and `vendors` (secrets named by
their setting), `pii` (personal data, on request), and `allow` (allow-lists).
"""
