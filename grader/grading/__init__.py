"""Grading: the submissions, the student functions behind the wire, the checks and the
autotests' pytest session that turns them into results."""
