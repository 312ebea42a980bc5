"""The grader's plugin gives the autotests their markers and fixtures."""

pytest_plugins = ("grader.grading.pytest_plugin",)
