"""The only code that runs next to student code: the worker's program (standard library only)."""
