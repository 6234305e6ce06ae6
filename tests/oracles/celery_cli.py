"""Celery's own click parser as an oracle: what a celery argv means to Celery 5.x.

`parse_with_celery(["-A", "proj", "worker", "--uid=nobody"])` parses the arguments (those after
the program) with the `celery.bin.celery.celery` click group and the subcommand it resolves,
without running either: contexts are made, callbacks of the commands are never invoked.

What runs, and why it is safe:
- parameter callbacks and types run (click runs them while making a context). Several read
  `ctx.obj.app.conf` (defaults for --statedb, --schedule, -B on Windows...), so the group context
  gets the `ctx.obj` the real group callback would build, around a fresh `Celery()` app that is
  not made current. The -A/--app value is never imported: the group declares it
  `click.UNPROCESSED` and only its callback (not run here) calls `find_app`, so `-A nowhere`
  parses fine.
- `--workdir`'s callback calls `os.chdir`: the working directory is restored afterwards.
- Options also read environment variables (APP, BROKER_URL, NO_COLOR, SKIP_CHECKS): use the
  `given`/`global_given` sets (parameters whose source is the command line), not `params` alone.

Errors are click's own (`click.NoSuchOption`, `click.BadParameter`, `click.UsageError`...).
"""

from __future__ import annotations

import os
from typing import Any

import click
from celery import Celery
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_group
from click.core import ParameterSource


def parse_with_celery(argv: list[str]) -> dict[str, Any]:
    """Parse a celery argv (without the program) the way Celery's CLI does.

    Returns {"global": group params, "global_given": names given on the command line,
    "subcommand": name or None, "params": subcommand params, "given": names given on the
    command line, "args": the subcommand's extra arguments}.
    """
    app = Celery(set_as_current=False)
    cwd = os.getcwd()
    try:
        group_ctx = celery_group.make_context(
            "celery", list(argv), obj=CLIContext(app=app, no_color=True, workdir=None)
        )
        # click < 9 keeps the subcommand apart in _protected_args; click 9 leaves it in args.
        rest = [*getattr(group_ctx, "_protected_args", []), *group_ctx.args]
        result: dict[str, Any] = {
            "global": dict(group_ctx.params),
            "global_given": _given(group_ctx),
            "subcommand": None,
            "params": {},
            "given": frozenset(),
            "args": [],
        }
        if not rest:
            return result
        name, command, sub_args = celery_group.resolve_command(group_ctx, rest)
        assert name is not None and command is not None
        sub_ctx = command.make_context(name, sub_args, parent=group_ctx)
        result.update(
            subcommand=name,
            params=dict(sub_ctx.params),
            given=_given(sub_ctx),
            args=list(sub_ctx.args),
        )
        return result
    finally:
        os.chdir(cwd)


def _given(ctx: click.Context) -> frozenset[str]:
    return frozenset(
        name for name in ctx.params if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    )


def declared_options(subcommand: str | None) -> dict[str, tuple[str, bool]]:
    """Option string -> (parameter name, takes a value), as Celery's click declares them.

    `subcommand=None` gives the group's (global) options. `--help` is included.
    """
    command: click.Command = celery_group
    if subcommand is not None:
        found = celery_group.get_command(click.Context(celery_group), subcommand)
        assert found is not None, subcommand
        command = found
    options: dict[str, tuple[str, bool]] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.name is not None
            for opt in (*param.opts, *param.secondary_opts):
                options[opt] = (param.name, not param.is_flag)
    options["--help"] = ("help", False)
    return options
