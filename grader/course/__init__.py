"""Course delivery: the stubs, the student bundle and self-check, nbgrader notebooks and
the Gradescope autograder, all made from the one source in solutions/ and autotests/."""
