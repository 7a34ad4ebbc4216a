"""Log output for twistd (``--logger=ridad.logs.observer``) and the log
vocabulary.

Structured keys used in log events, beyond STYLE.md's list
(``module_build_id``, ``component``, ``koji_task_id``, ``nvr``, ``topic``,
``state``, ``attempt``, ``duration_seconds``): ``error_id``, ``method``,
``path``, ``reason``, ``repository``, ``dsn``, ``data_dir``, ``version``,
``listen``, ``delay_seconds``.
"""

from __future__ import annotations

import os
import sys

from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    formatEventAsClassicLogText,
    jsonFileLogObserver,
)


def observer() -> ILogObserver:
    """JSON lines on stdout in production, text on a terminal.

    ``RIDAD_LOG_FORMAT=json`` or ``text`` overrides the choice.
    """
    chosen = os.environ.get("RIDAD_LOG_FORMAT")
    if chosen is None:
        chosen = "text" if sys.stdout.isatty() else "json"
    if chosen == "json":
        return jsonFileLogObserver(sys.stdout)
    return FileLogObserver(sys.stdout, formatEventAsClassicLogText)
