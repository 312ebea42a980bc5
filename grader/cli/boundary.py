"""The ``grader`` command's boundary: every error is one line, every path is checked.

What each command module shares: GraderError turned into one line on stderr and its exit
code, click's usage errors likewise, the checks of an input file and of an output place,
the atomic write of an output, and the options several commands take.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from grader.course.gradescope import DEFAULT_HIDDEN_VISIBILITY, VISIBILITIES
from grader.errors import (
    EXIT_INTERRUPTED,
    GraderError,
    NoOutputFolder,
    NoSuchPath,
    NotAFile,
    OutputNotWritable,
)
from grader.reports import render, store
from grader.sandbox.limits import Limits


def one_line_errors(command):
    """Turn a GraderError raised by ``command`` into one line and its exit code (and
    Ctrl-C into 'grader: interrupted', exit 130)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except GraderError as error:
            click.echo(render.printable(f"grader: {error}"), err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:  # Ctrl-C outside a batch (a batch raises Interrupted)
            click.echo("grader: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper


class OneLineUsageGroup(click.Group):
    """click's usage errors as one ``grader:`` line too, instead of its three-line block."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:
            error.show()
            sys.exit(error.exit_code)
        except click.ClickException as error:
            where = getattr(error, "ctx", None)
            tail = f" (see '{where.command_path} --help')" if where is not None else ""
            click.echo(f"grader: {error.format_message()}{tail}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:  # click's word for Ctrl-C (KeyboardInterrupt) outside a batch
            click.echo("grader: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(result if isinstance(result, int) else 0)


# Inputs and outputs: a missing input is bad usage (exit 2), and no command makes a folder
# it was not asked for. A folder named for the output (--out DIR, release DIR) is made if
# missing, but never its missing parents; an output file's folder must exist.


def input_file(path: Path, what: str) -> Path:
    """``path``, a file to read; NoSuchPath or NotAFile (exit 2) otherwise."""
    if not path.exists():
        raise NoSuchPath(path)
    if not path.is_file():
        raise NotAFile(path, what)
    return path


def output_place(path: Path) -> Path:
    """``path``, an output file or a folder to make: NoOutputFolder (exit 2) unless the
    folder it goes in exists (an existing ``path`` is the writer's to judge)."""
    if not path.exists() and not path.parent.is_dir():
        raise NoOutputFolder(path, "is not a folder" if path.parent.exists()
                             else "does not exist")
    return path


def write_output(target: Path, text: str) -> None:
    """``text`` written atomically to ``target``; OutputNotWritable (one line) if it cannot be."""
    try:
        store.write_atomic(target, text)
    except OSError as error:
        raise OutputNotWritable(target, error.strerror or str(error)) from None


# Options that several commands take, defined once.
timeout_option = click.option("--timeout", default=Limits.wall_seconds, show_default=True,
                              type=click.FloatRange(0.1, 3600),
                              help="Wall-clock seconds allowed per call.")
assignment_option = click.option(
    "--assignment", default=None, metavar="NAME",
    help="The course assignment to grade (default: the course's first; 'all': every exercise).")
hidden_visibility_option = click.option(
    "--hidden-visibility", type=click.Choice(VISIBILITIES), default=DEFAULT_HIDDEN_VISIBILITY,
    show_default=True, help="When students see the hidden tests' results on Gradescope.")
