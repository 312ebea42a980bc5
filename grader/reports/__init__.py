"""Reports: the result dataclasses, the versioned JSON Schema, reading and writing report
files, and rendering them for people (text, Markdown, HTML, the gradebook CSV)."""
