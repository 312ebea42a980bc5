"""Backprop Lab's grader: scores the exercises against hidden references and explains mistakes."""

# The one place the version is written: pyproject.toml reads it ([tool.setuptools.dynamic]),
# and `grader release` writes it into the student bundle's pyproject.toml.
__version__ = "0.1.0"
