"""The grader's plugin gives the autotests their markers and fixtures."""

pytest_plugins = ("grader.pytest_plugin",)
