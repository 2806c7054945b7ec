"""One style for every command's ``--help`` and usage errors.

Applied once to the click command tree that typer builds (``engine.cli.main``), so every
option of every command gets it without an edit where the option is declared:

- help texts are plain text: typer renders them as rich markup, which swallowed every
  ``[default: ...]`` and ``[env ...]`` written in them (``[default: 10]`` read as a tag);
- an option whose help text states its default (``[default: ...]``) does not get typer's
  second ``[default: ...]``; the others show typer's;
- flags (``--json``, ``--help``) show no ``<bool>`` metavar: they take no value.

Usage errors (unknown option or command, missing argument, bad value) become one
line, ``error: ...``, like every other error of the command (engine.cli.exits).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.markup import escape

STATED_DEFAULT = "[default:"


def commands(command: Any) -> Iterator[Any]:
    """``command`` and every command below it (groups' subcommands, depth first)."""
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from commands(sub)


def style(command: Any) -> Any:
    """Restyle the help of ``command`` and its subcommands in place (see the module docstring)."""
    for cmd in commands(command):
        ctx = cmd.context_class(cmd, info_name=cmd.name)
        for param in cmd.get_params(ctx):  # includes the help option (made on first use, then kept)
            help_text = getattr(param, "help", None)
            if help_text and not getattr(param, "_styled", False):
                if STATED_DEFAULT in help_text and hasattr(param, "show_default"):
                    param.show_default = False
                param.help = escape(help_text)
                param._styled = True  # a second style() leaves the text as it is
            if getattr(param, "is_flag", False):
                param.metavar = ""  # a flag takes no value
    return command


def usage_line(exc: Any) -> str:
    """One line for a click usage error: what was wrong, and where the help is."""
    message = _message(exc).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"{message}{where}"


def _message(exc: Any) -> str:
    name = type(exc).__name__
    if name == "NoSuchOption" and getattr(exc, "possibilities", None):
        # click says "(Possible options: ...)"; the project says "did you mean"
        close = ", ".join(sorted(exc.possibilities))
        return f"{_lower(exc.message)}; did you mean {close}?"
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    text = text.replace(": Input should", ": input should")  # typer's pydantic-made reasons
    return _lower(" ".join(text.split()))  # one line, whatever click put in it


def _lower(text: str) -> str:
    # click's sentences start upper case ("No such option"); ours do not
    return text[:1].lower() + text[1:] if text[:2].isalpha() and not text[:2].isupper() else text
