"""What the recipe commands do (add, edit, remove, show, lint: `recipes`), and finding a recipe
by what a person types (`lookup`). Above the index and render, below metrics and sync."""
