"""The sandbox: the wire, the worker's program (``inside/``) and the grader's handle on it.

Standard library only at this level: ``wire.py`` and ``inside/`` are copied into every
worker's folder, with this file, and run next to student code.
"""
