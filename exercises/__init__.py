"""Backprop Lab exercises: fill in each function where it says ``raise NotImplementedError``.

Run ``grader check`` to test your work with the public tests.
"""
