"""Filling a recipe: variable resolution, choices and bounds (`fill`), and bounded reading of
piped or file input (`reading`). Redaction and the sandbox are called from here."""
