"""Who a person is, in every record the report reads: one rule for all of them.

A person appears as a commit author (`Jane Doe <Jane@Example.com>`; git gives the email apart),
in a win (`email`, with `author` as `Name <email>`), in a usage file or the usage log (`person`,
an email) and in a team roster (either form). Each is the same person when the email is the
same, ignoring case: the email, lower-cased and on one line, is the person.
"""

from __future__ import annotations

from functools import lru_cache

from promptlib.metrics.files import MAX_PERSON_CHARS, one_line


@lru_cache(maxsize=8192)  # a report asks for the same few people thousands of times
def person(text: str) -> str:
    """`Jane Doe <Jane@Example.com>` or `jane@example.com` → `jane@example.com`; '' for none.

    A bare name with no `<email>` stays as it is (lower-cased): it is still one person.
    """
    text = text.strip()
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1:-1]
    return one_line(text).lower()[:MAX_PERSON_CHARS]
