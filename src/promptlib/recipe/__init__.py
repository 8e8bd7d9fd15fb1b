"""The recipe: the model and its rules (`model`), and the strict YAML loader (`loader`)."""

from promptlib.recipe.loader import load, loads
from promptlib.recipe.model import Example, Recipe, Variable, check_name, is_valid_name

__all__ = ["Example", "Recipe", "Variable", "check_name", "is_valid_name", "load", "loads"]
