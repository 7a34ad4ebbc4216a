"""Who may reach the embedded PostgreSQL cluster: its directories and its
authentication files.

The cluster listens on no TCP port, only on a Unix socket in a directory that
ridad's account (and, when ridad runs as root, the ``postgres`` account that
runs the server) alone can enter. Behind that directory, ``pg_hba.conf``
accepts local connections only, with peer authentication through an ident
map naming ridad's account alone. Like :mod:`ridad.db.cluster` these are
plain synchronous functions that start nothing.
"""

from __future__ import annotations

import os
import pwd
import re
import stat
from pathlib import Path

from ridad.errors import ConfigError

#: The socket directory's name, beside the data directory.
SOCKET_DIR_NAME = "postgres-socket"
#: The server's port. Without TCP it only names the socket file
#: (``.s.PGSQL.<port>``), which lives in a directory of its own, so a fixed
#: number collides with nothing.
SOCKET_PORT = 5432
#: The longest path a Unix socket may have on Linux (``sun_path`` less its NUL).
MAX_SOCKET_PATH_BYTES = 107
#: What a socket directory's path may consist of: it travels through pg_ctl's
#: shell and PostgreSQL's comma-separated ``unix_socket_directories``.
_SAFE_PATH = re.compile(r"/[A-Za-z0-9/._+-]*")
IDENT_MAP = "ridad"
HBA_TEXT = (
    "# Written by ridad at every start; edits are overwritten.\n"
    "# Unix-socket connections only, by the accounts pg_ident.conf names.\n"
    f"local all all peer map={IDENT_MAP}\n"
)


def make_state_dir(state_dir: str, group_of: str | None = None) -> None:
    """Create ``state_dir`` with mode 0750 when it is missing (whatever the umask).

    An existing directory is left as it is. ``group_of`` names an account whose
    primary group the new directory gets, so that it may enter it (the
    ``postgres`` account, when ridad runs as root with an embedded cluster).
    """
    path = os.path.abspath(state_dir)
    if os.path.isdir(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.mkdir(path, 0o750)
    except FileExistsError:
        return
    if group_of is not None:
        os.chown(path, -1, pwd.getpwnam(group_of).pw_gid)
    os.chmod(path, 0o750)


def socket_path_fits(socket_dir: str) -> bool:
    """Tell whether a socket in ``socket_dir`` is short enough and its path safe."""
    socket = os.path.join(socket_dir, f".s.PGSQL.{SOCKET_PORT}")
    fits = len(os.fsencode(socket)) <= MAX_SOCKET_PATH_BYTES
    return fits and _SAFE_PATH.fullmatch(socket_dir) is not None


def choose_socket_dir(data_dir: str, fallback_parent: str) -> tuple[str, bool]:
    """The socket directory (beside ``data_dir``, else under ``fallback_parent``)
    and whether it is the fallback.

    :raises ConfigError: neither place gives a socket path PostgreSQL can use.
    """
    beside = os.path.join(os.path.dirname(data_dir), SOCKET_DIR_NAME)
    if socket_path_fits(beside):
        return beside, False
    fallback = os.path.join(fallback_parent, SOCKET_DIR_NAME)
    if socket_path_fits(fallback):
        return fallback, True
    problem = f"no place for the embedded database's socket ({beside} is unusable)"
    raise ConfigError([f"state_dir: {problem}"])


def prepare_socket_dir(socket_dir: str, account: str | None) -> None:
    """Create the socket directory, or take back an existing one, for the server.

    Run by ridad's own account the directory is its own, mode 0700. As root,
    with the server running as ``account``, it belongs to ``account`` (which
    creates the socket there) and to root's group, mode 0750: root and
    ``account`` may enter, nobody else.

    :raises ConfigError: the path is not a directory, or (not as root) is
        someone else's.
    """
    mode = 0o700 if account is None else 0o750
    try:
        os.mkdir(socket_dir, mode)
    except FileExistsError:
        pass
    info = os.lstat(socket_dir)
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError([f"state_dir: {socket_dir} is not a directory"])
    if account is not None:
        os.chown(socket_dir, pwd.getpwnam(account).pw_uid, os.getegid())
    elif info.st_uid != os.geteuid():
        problem = f"{socket_dir} belongs to another account"
        raise ConfigError([f"state_dir: {problem}"])
    os.chmod(socket_dir, mode)


def ident_text(os_user: str, db_user: str) -> str:
    """``pg_ident.conf``: the one account that may connect, as ``db_user``."""
    return (
        "# Written by ridad at every start; edits are overwritten.\n"
        f"{IDENT_MAP} {os_user} {db_user}\n"
    )


def write_access_files(data_dir: str, db_user: str) -> bool:
    """Write ``pg_hba.conf`` and ``pg_ident.conf`` for ridad's account.

    The files are rewritten in place, which keeps their owner (the server's
    account) and mode. An interrupted write is repaired at the next start.

    :returns: whether either file changed (the server must then reload).
    """
    os_user = pwd.getpwuid(os.geteuid()).pw_name
    changed = False
    for name, text in (
        ("pg_hba.conf", HBA_TEXT),
        ("pg_ident.conf", ident_text(os_user, db_user)),
    ):
        path = Path(data_dir, name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.write_text(text, encoding="utf-8")
        changed = True
    return changed
