"""The one exception family the core raises. The CLI turns each into a message and an exit code.

Exit codes (DESIGN §4): 0 ok · 1 error · 2 usage · 3 not found · 4 invalid recipe or input ·
5 sync conflict · 6 remote unreachable.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INVALID = 4
EXIT_CONFLICT = 5
EXIT_UNREACHABLE = 6


class PromptlibError(Exception):
    """A failure the user can act on: a one-line message, an optional hint, an exit code."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(PromptlibError):
    exit_code = EXIT_USAGE


class NotFoundError(PromptlibError):
    """No such recipe, collection or team — or a bare name that matches several."""

    exit_code = EXIT_NOT_FOUND


class InvalidError(PromptlibError):
    """A recipe, a value or an argument that breaks the rules."""

    exit_code = EXIT_INVALID


class RecipeError(InvalidError):
    """A recipe file that does not validate. Knows where: file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ):
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self._locate(message), hint=hint)

    def _locate(self, message: str) -> str:
        where = self.path or "<recipe>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {message}"

    def at(self, path: str) -> RecipeError:
        """The same error, told against a file name (the loader does not know it)."""
        return RecipeError(self.reason, path=path, line=self.line, field=self.field, hint=self.hint)


class TemplateError(InvalidError):
    """A template that does not parse, does not render, or breaks the sandbox's bounds."""


class SecurityError(TemplateError):
    """A template that tried to reach outside the sandbox."""


class SecretFoundError(InvalidError):
    """A credential where none may be: in a recipe being added, edited, shared or pushed."""


class ConflictError(PromptlibError):
    exit_code = EXIT_CONFLICT


class RemoteUnreachableError(PromptlibError):
    exit_code = EXIT_UNREACHABLE
