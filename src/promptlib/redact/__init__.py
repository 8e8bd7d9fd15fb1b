"""The secret detector used by render, lint, add and push: token patterns (`patterns`), secrets
named by their key or flag (`keyvalues`), and the API (`detector`). Pure: no I/O."""
