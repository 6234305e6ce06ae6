"""The command line: parses options and hands them to the engine. Exit codes: 0, 1, 2."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Annotated

import typer

from celeryfix import __version__
from celeryfix.config import ConfigError, check_account_or_path, enabled_rules
from celeryfix.rules import all_rules, rule_by_id
from celeryfix.run import EXIT_ERROR, Mode, Request, run


class UsageProblem(Exception):
    """Bad usage found by celeryfix itself (the parser reports its own): exit 2."""


app = typer.Typer(
    name="celeryfix",
    help="Fix the Celery startup warnings of Django/Celery repositories.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Color(str, Enum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


def _version(value: bool) -> None:
    if value:
        print(f"celeryfix {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Fix the Celery startup warnings of Django/Celery repositories."""


def _use_color(color: Color) -> bool:
    if color is Color.ALWAYS:
        return True
    if color is Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


@app.command()
def apply(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Repository roots or files (default: .).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff of every change; write nothing.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; list what would change; exit 1 if anything would."
        ),
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print the diffs of what is written.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report on stdout.")] = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Run only these rules (ids or prefixes; repeatable). Unsafe rules run only when selected.",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Do not run these rules (repeatable).")
    ] = None,
    uid: Annotated[
        str | None, typer.Option("--uid", help="User for --uid (default: nobody).")
    ] = None,
    gid: Annotated[
        str | None,
        typer.Option(
            "--gid", help="Group for --gid (default: nogroup; nobody on RHEL-family images)."
        ),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="Beat schedule file added by CF102 (default: /tmp/celerybeat-schedule).",
        ),
    ] = None,
    color: Annotated[
        Color,
        typer.Option("--color", help="Colour diffs: auto, always, never (NO_COLOR is honoured)."),
    ] = Color.AUTO,
    quiet: Annotated[
        bool,
        typer.Option(
            "-q", "--quiet", help="Print only errors (and what --dry-run/--check/--json print)."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Also print informational notes.")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Plan this many repositories at once.")
    ] = 1,
    exit_non_zero_on_fix: Annotated[
        bool,
        typer.Option(
            "--exit-non-zero-on-fix", help="Exit 1 when files were changed (for pre-commit)."
        ),
    ] = False,
) -> None:
    """Fix the repositories at PATHS (default: the current folder)."""
    if dry_run and check:
        raise UsageProblem("--dry-run and --check cannot be used together")
    for key, value in (("uid", uid), ("gid", gid), ("schedule", schedule)):
        if value is not None:
            try:
                check_account_or_path(key, value, f"--{key}")
            except ConfigError as error:
                raise UsageProblem(str(error)) from None
    try:
        enabled_rules(select or [], ignore or [])  # an unknown rule: one line, not one per repo
    except ConfigError as error:
        raise UsageProblem(str(error)) from None
    mode = Mode.DRY_RUN if dry_run else Mode.CHECK if check else Mode.WRITE
    request = Request(
        paths=tuple(paths or ["."]),
        mode=mode,
        cli_options={
            "select": select or [],
            "ignore": ignore or [],
            "uid": uid,
            "gid": gid,
            "schedule": schedule,
        },
        show_diff=diff,
        as_json=as_json,
        quiet=quiet,
        verbose=verbose,
        jobs=jobs,
        exit_non_zero_on_fix=exit_non_zero_on_fix,
        color=_use_color(color),
    )
    raise typer.Exit(run(request))


@app.command()
def rules(
    rule_id: Annotated[
        str | None, typer.Argument(metavar="RULE", help="A rule id, e.g. CF101.")
    ] = None,
) -> None:
    """List every rule, or print the docs of one."""
    if rule_id is None:
        for rule in all_rules():
            print(f"{rule.id}  {rule.name:<34} {rule.safety.value:<7} {rule.summary}")
        return
    found = rule_by_id(rule_id)
    if found is None:
        raise UsageProblem(f"unknown rule {rule_id!r} (see `celeryfix rules`)")
    rule = found
    print(f"# {rule.id} {rule.name} ({rule.safety.value}, reads {rule.reads.value} files)\n")
    print(rule.summary + "\n")
    print(rule.docs.rstrip() + "\n")
    for example in rule.examples:
        from celeryfix.diff import unified_diff

        print(f"## Example ({example.path})\n")
        print(unified_diff(example.path, example.before, example.after), end="")


@app.command()
def explain(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="A log file, or - for stdin (the default).")
    ] = "-",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report on stdout.")] = False,
    color: Annotated[
        Color,
        typer.Option(
            "--color", help="Colour the report: auto, always, never (NO_COLOR is honoured)."
        ),
    ] = Color.AUTO,
) -> None:
    """Explain the known Celery/Django warnings and startup errors in a log; exit 1 if any."""
    from celeryfix.explain import LogUnreadable, find_known, json_report, read_log, text_report

    try:
        text = read_log(file)
    except LogUnreadable as error:
        print(f"celeryfix: error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_ERROR) from None
    findings = find_known(text)
    print(
        json_report(findings, file) if as_json else text_report(findings, _use_color(color)), end=""
    )
    raise typer.Exit(1 if findings else 0)


def main() -> None:
    """Entry point: one line on stderr and exit 2 for usage errors, no traceback."""
    try:
        # Without standalone mode the parser returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except UsageProblem as error:
        print(f"celeryfix: error: {error}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except typer.TyperException as error:
        context = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
            print(context.get_help(), file=sys.stderr)
            sys.exit(EXIT_ERROR)
        format_message = getattr(error, "format_message", None)
        message = format_message() if callable(format_message) else str(error)
        print(f"celeryfix: error: {message}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except (typer.Abort, KeyboardInterrupt):
        print("celeryfix: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
