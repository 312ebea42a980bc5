"""The grading tests: one pytest module per exercise, public and hidden tests side by side."""
