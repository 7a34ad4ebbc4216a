"""The command line of ``rida``: commands, options and ``--help``."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Sequence
from typing import IO, NoReturn

from ridad.cli.exits import EXIT_STATUS_HELP, UsageError
from ridad.cli.koji_upload import DEFAULT_PROFILE
from ridad.domain.rebuild import REBUILD_STRATEGIES
from ridad.domain.states import ModuleState

DEFAULT_INTERVAL_SECONDS = 5.0

DESCRIPTION = """\
rida: submit, check, watch, show, list, cancel, retire and import module builds on ridad or on
any Module Build Service (it speaks MBS's API v2: <server>/module-build-service/2/).
"""

EPILOG = f"""\
settings (a flag wins over the environment, which wins over the file):
  server   --server, RIDA_SERVER, "server:" in ~/.config/rida/config.yaml
           (default http://127.0.0.1:8080)
  token    --token, RIDA_TOKEN, "token:" (sent as Authorization: Bearer)
  Kerberos used by itself when the server asks for it (WWW-Authenticate:
           Negotiate) and python-gssapi is installed: run kinit first
  TLS      --cert, --key, --ca, or "cert:", "key:", "ca:" (client certificate
           and the CA bundle the server's certificate is checked against)
  user     "user:" or RIDA_USER: the owner "list --mine" asks for (default:
           your Kerberos principal's name, else your login name)

{EXIT_STATUS_HELP}"""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises ``UsageError`` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a build id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a build id: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def _build_reference(text: str) -> int | str:
    """A module build id, or an NSVC ``name:stream:version:context``."""
    if text.isascii() and text.isdigit():
        return _positive_int(text)
    parts = text.split(":")
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError(
            f"neither a build id nor an NSVC (name:stream:version:context): {text!r}"
        )
    return text


def _state(text: str) -> str:
    for state in ModuleState:
        if text.lower() in (state.label, str(state.number)):
            return state.label
    names = ", ".join(state.label for state in ModuleState)
    raise argparse.ArgumentTypeError(f"unknown state {text!r} (one of {names})")


def _common_options(*, defaults: bool) -> _Parser:
    """Options every command takes, before or after the command name.

    The copy attached to the commands suppresses its defaults, so that an
    option given before the command name is not reset by the command's parser.
    """
    default = None if defaults else argparse.SUPPRESS
    common = _Parser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--server", metavar="URL", default=default, help="server URL")
    group.add_argument("--token", metavar="TOKEN", default=default, help="API token")
    group.add_argument("--cert", metavar="FILE", default=default, help="client cert")
    group.add_argument("--key", metavar="FILE", default=default, help="its key")
    group.add_argument("--ca", metavar="FILE", default=default, help="CA bundle")
    common.add_argument(
        "--json",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="print the server's JSON instead of text",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``rida``'s whole command line."""
    parser = _Parser(
        prog="rida",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(defaults=True)],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common_options(defaults=False)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=EXIT_STATUS_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )

    def interval(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--interval",
            metavar="SECONDS",
            type=_positive_float,
            default=DEFAULT_INTERVAL_SECONDS,
            help=f"seconds between polls (default {DEFAULT_INTERVAL_SECONDS:g})",
        )

    _add_build_commands(command, interval)
    _add_import_command(command)
    command("about", "show what the server is")
    return parser


def _add_build_commands(
    command: Callable[[str, str], argparse.ArgumentParser],
    interval: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the commands that submit, watch, show, list, cancel and retire builds."""
    _add_submit_command(command, interval)

    watch = command("watch", "show the progress of builds until they end")
    watch.add_argument("ids", metavar="ID", nargs="+", type=_positive_int)
    interval(watch)

    show = command("show", "show one module build")
    show.add_argument("id", metavar="ID", type=_positive_int)

    modulemd = command(
        "modulemd", "print a built module's final modulemd (ridad servers)"
    )
    modulemd.add_argument("id", metavar="ID", type=_positive_int)
    modulemd.add_argument(
        "--arch", metavar="ARCH", help="the document of one architecture"
    )

    listing = command("list", "list module builds, newest first")
    listing.add_argument(
        "--state",
        action="append",
        type=_state,
        help="only builds in this state (repeatable)",
    )
    listing.add_argument("--mine", action="store_true", help="only my builds")
    listing.add_argument(
        "--limit", metavar="N", type=_positive_int, help="at most N builds"
    )

    cancel = command("cancel", "cancel a module build (it fails)")
    cancel.add_argument("id", metavar="ID", type=_positive_int)

    retire = command(
        "retire", "retire a ready or failed module build (garbage; administrators)"
    )
    retire.add_argument("id", metavar="ID", type=_positive_int)


def _add_submit_command(
    command: Callable[[str, str], argparse.ArgumentParser],
    interval: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``submit``: an SCM URL, or a modulemd file, and MBS's options;
    and ``check``, its dry run (ridad servers)."""
    submit = command("submit", "submit a module build")
    _add_submission_options(submit)
    submit.add_argument(
        "--srpm",
        metavar="FILE",
        dest="srpms",
        action="append",
        help="build this SRPM instead of the component's git (scratch builds; "
        "repeatable): uploaded to Koji with your Koji login first",
    )
    _add_koji_options(submit)
    submit.add_argument(
        "--watch", action="store_true", help="watch the build until it ends"
    )
    interval(submit)
    check = command(
        "check",
        "check a submission without building anything (a dry run; ridad"
        " servers): exit 0 when it would be accepted, 1 when refused",
    )
    _add_submission_options(check)


def _dependency_override(text: str) -> tuple[str, str]:
    """``NAME:STREAM`` (rpkg's form of a dependency override)."""
    name, _, stream = text.partition(":")
    if not name or not stream:
        raise argparse.ArgumentTypeError(f"not NAME:STREAM: {text!r}")
    return name, stream


def _add_submission_options(sub: argparse.ArgumentParser) -> None:
    """What both ``submit`` and ``check`` send: the module and MBS's options."""
    sub.add_argument(
        "scmurl",
        metavar="SCMURL",
        nargs="?",
        help="git://host/path/name.git?#ref (optional with --file)",
    )
    sub.add_argument(
        "--branch",
        help="the module's branch (stream); default: the SCMURL's ref when "
        "it is a branch, not a commit hash",
    )
    sub.add_argument(
        "--scratch", action="store_true", help="a scratch build (never ready)"
    )
    sub.add_argument(
        "--file",
        metavar="FILE",
        dest="modulemd_file",
        help="send this modulemd instead of the SCMURL's; the module's name "
        "defaults to the file's name without .yaml (scratch builds, unless "
        "the server allows YAML submissions)",
    )
    sub.add_argument(
        "--stream",
        metavar="STREAM",
        help="with --file: the stream of a modulemd that names none",
    )
    sub.add_argument(
        "--rebuild-strategy",
        choices=list(REBUILD_STRATEGIES),
        help="which components to rebuild rather than reuse (default: the server's)",
    )
    sub.add_argument(
        "--reuse-from",
        metavar="ID|NSVC",
        type=_build_reference,
        help="reuse components from this ready build of the module",
    )
    for flag, what in (
        ("--buildrequires", "buildrequires"),
        ("--requires", "requires"),
    ):
        sub.add_argument(
            flag,
            metavar="NAME:STREAM",
            dest=f"{what}_overrides",
            action="append",
            type=_dependency_override,
            help=f"build with this stream of NAME in place of the {what} the "
            "modulemd lists (repeatable)",
        )


def _add_koji_options(submit: argparse.ArgumentParser) -> None:
    """The Koji login ``--srpm`` uploads with (koji's own configuration)."""
    koji = submit.add_argument_group("Koji, for --srpm (koji's own configuration)")
    koji.add_argument(
        "--koji-profile",
        metavar="NAME",
        default=DEFAULT_PROFILE,
        help=f"the koji profile (koji -p; default {DEFAULT_PROFILE})",
    )
    koji.add_argument(
        "--koji-config", metavar="FILE", help="a koji config file (koji -c)"
    )
    koji.add_argument(
        "--koji-hub", metavar="URL", help="the hub, instead of the profile's server"
    )


def _add_import_command(
    command: Callable[[str, str], argparse.ArgumentParser],
) -> None:
    """Add ``import``: a module built elsewhere recorded as ready."""
    importing = command(
        "import",
        "import a module built elsewhere (a base module) as ready (administrators)",
    )
    importing.add_argument(
        "source",
        metavar="FILE|SCMURL",
        help="a modulemd file, or git://host/path/name.git?#ref",
    )


def parse_arguments(argv: Sequence[str], out: IO[str]) -> argparse.Namespace | None:
    """The parsed command line; None when ``--help`` was printed to ``out``.

    :raises UsageError: for anything argparse refuses.
    """
    parser = build_parser()
    with contextlib.redirect_stdout(out):
        try:
            return parser.parse_args(list(argv))
        except SystemExit as exit_:
            if exit_.code in (0, None):
                return None
            raise UsageError(f"bad arguments: {' '.join(argv)}") from None
