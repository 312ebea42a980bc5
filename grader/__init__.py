"""Backprop Lab's grader: scores the exercises against hidden references and explains mistakes."""

__version__ = "0.1.0"
