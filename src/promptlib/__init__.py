"""promptlib: a command-line prompt library for operations teams."""

__version__ = "0.1.0"
