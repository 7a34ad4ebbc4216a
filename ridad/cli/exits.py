"""The exit statuses of ``rida`` and the errors that lead to them.

Every error the command line reports is a ``CommandError``: ``main`` prints
its message (never a traceback) and exits with its ``exit_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ridad.errors import RidadError

#: The command did what was asked (a watched build is ready).
OK = 0
#: A build that was submitted or watched failed.
BUILD_FAILED = 1
#: Bad arguments, settings or configuration file: nothing was sent.
USAGE = 2
#: The server refused or failed, or could not be reached.
SERVER = 3
#: Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
INTERRUPTED = 130

EXIT_STATUS_HELP = f"""exit statuses:
  {OK}  success (watch and submit --watch: every build is ready, or done
     for a scratch build)
  {BUILD_FAILED}  a watched build failed; check: the submission would be refused
  {USAGE}  usage error: bad arguments, settings or configuration file
  {SERVER}  the server refused the request or failed, or cannot be reached
  {INTERRUPTED}  interrupted (Ctrl-C)
"""


class CommandError(RidadError):
    """What ``rida`` reports on stderr before exiting with ``exit_status``."""

    exit_status = SERVER


class UsageError(CommandError):
    """Bad command-line arguments or settings; nothing was sent."""

    exit_status = USAGE


class ServerError(CommandError):
    """The server answered with an error, or answered nonsense.

    ``status`` is the HTTP status (None when nothing usable came back),
    ``transient`` says whether asking again later may succeed (5xx) and
    ``details`` are the error body's (ridad's), which ``check`` lists.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        transient: bool,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.transient = transient


class NetworkError(ServerError):
    """The server could not be reached or the connection broke."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=None, transient=True)
