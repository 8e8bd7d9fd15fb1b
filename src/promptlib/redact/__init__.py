"""The secret detector used by render, redact, lint, add, edit, share and push. Pure: no I/O
(the allow-list files are read by store/allow_lists.py).

`detector` is the API (find_secrets, redact, summary). Beneath it: `registry` (every detector,
in rank order), `prefilter` (which detectors a text can wake), `rules` (the Rule record and
the placeholder checks), the token tables `patterns` and `services`, `structured` (key blocks,
AWS pairs, JWTs, auth headers, URL passwords), `keyvalues` and `vendors` (secrets named by
their setting), `pii` (personal data, on request), `allow` (allow-lists), and `filter`
(`promptlib redact`: whole inputs and streams).
"""
