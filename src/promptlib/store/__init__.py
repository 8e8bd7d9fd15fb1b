"""Collections on disk: the home, safe paths inside a collection, and iterating and reading recipe
files (`collections`). Never follows a symlink."""
