"""How a private PostgreSQL cluster is laid out and driven, as plain functions.

Binary lookup, the account and data directory, the port, the argv of
initdb, pg_ctl and psql, and the server log. They are synchronous and
start nothing, so that test fixtures reuse them as they are;
:class:`ridad.db.embedded.EmbeddedPostgres` runs the commands they build.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import shutil
import socket
import stat
import tempfile
from pathlib import Path

from ridad.errors import ConfigError

#: The system account a root-run daemon runs the cluster as.
CLUSTER_ACCOUNT = "postgres"
DATABASE_NAME = "ridad"
SERVER_LOG_NAME = "server.log"


def find_bin_dir(root: str = "/usr/lib/postgresql") -> str:
    """Return Debian's ``<root>/<highest version>/bin``, else pg_ctl's PATH directory.

    :raises ConfigError: no PostgreSQL server binaries are installed.
    """
    entries = os.listdir(root) if os.path.isdir(root) else []
    versions = [
        int(entry)
        for entry in entries
        if entry.isdigit()
        and os.path.exists(os.path.join(root, entry, "bin", "pg_ctl"))
    ]
    if versions:
        return os.path.join(root, str(max(versions)), "bin")
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise ConfigError(
            ["database.dsn: embedded needs the PostgreSQL server installed"]
        )
    return os.path.dirname(os.path.realpath(pg_ctl))


def cluster_account() -> str | None:
    """The account to run the cluster as: ``postgres`` for root, else None (us)."""
    return CLUSTER_ACCOUNT if os.geteuid() == 0 else None


def superuser_name(account: str | None) -> str:
    """The cluster's superuser: the account it runs as."""
    return account or pwd.getpwuid(os.geteuid()).pw_name


def can_traverse(account: str, path: str) -> bool:
    """Tell whether ``account`` may search every existing directory down to ``path``."""
    entry = pwd.getpwnam(account)
    groups = set(os.getgrouplist(account, entry.pw_gid))
    current = Path(os.path.abspath(path))
    for directory in [*reversed(current.parents), current]:
        try:
            info = os.stat(directory)
        except FileNotFoundError:
            break
        if info.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def fallback_dir(state_dir: str, temp_dir: str | None = None) -> str:
    """The private directory under the temporary directory, stable per ``state_dir``."""
    digest = hashlib.sha1(os.path.abspath(state_dir).encode()).hexdigest()[:12]
    return os.path.join(temp_dir or tempfile.gettempdir(), f"ridad-pg-{digest}")


def choose_data_dir(state_dir: str, account: str | None) -> tuple[str, bool]:
    """Return the data directory and whether it is the temporary-directory fallback."""
    if account is None or can_traverse(account, state_dir):
        return os.path.join(os.path.abspath(state_dir), "postgres"), False
    return os.path.join(fallback_dir(state_dir), "postgres"), True


def prepare_parent(data_dir: str, account: str | None, fallback: bool) -> None:
    """Create the data directory's parent; a fallback parent is private to ``account``.

    :raises ConfigError: the fallback directory exists but is not a private
        directory of ``account`` (someone may be tampering with it).
    """
    parent = os.path.dirname(data_dir)
    if fallback:
        prepare_fallback_dir(parent, account)
        return
    os.makedirs(parent, exist_ok=True)
    if account is not None and not can_traverse(account, parent):
        raise ConfigError([f"state_dir: {account} cannot reach {parent} (umask?)"])


def prepare_fallback_dir(path: str, account: str | None) -> None:
    """Create the temporary-directory fallback ``path``, mode 0700, for ``account``.

    :raises ConfigError: it exists but is not a private directory of
        ``account`` (someone may be tampering with it).
    """
    owner = pwd.getpwnam(account or superuser_name(None))
    try:
        os.mkdir(path, 0o700)
        os.chown(path, owner.pw_uid, owner.pw_gid)
    except FileExistsError:
        info = os.lstat(path)
        private = info.st_uid == owner.pw_uid and not info.st_mode & 0o077
        if not (stat.S_ISDIR(info.st_mode) and private):
            problem = f"{path} exists but is not private to {owner.pw_name}"
            raise ConfigError([f"state_dir: {problem}"]) from None


def make_private_dir(path: str, account: str | None) -> None:
    """Create ``path`` with mode 0700, owned by ``account`` (or us)."""
    os.mkdir(path, 0o700)
    if account is not None:
        owner = pwd.getpwnam(account)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def pick_free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (bind to 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def as_account(account: str | None, argv: list[str]) -> list[str]:
    """Prefix ``argv`` with ``runuser -u <account> --`` when an account is given."""
    if account is None:
        return argv
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", account, "--", *argv]


def initdb_argv(
    *,
    bin_dir: str,
    data_dir: str,
    superuser: str,
    account: str | None,
    no_sync: bool = False,
    local_only: bool = False,
) -> list[str]:
    """The initdb command: UTF8, C locale, and trust auth.

    ``local_only`` (the embedded cluster) makes it peer auth on the Unix
    socket and refuses TCP instead.
    """
    argv = [os.path.join(bin_dir, "initdb"), "-D", data_dir, "-U", superuser]
    auth = (
        ["--auth-local=peer", "--auth-host=reject"] if local_only else ["-A", "trust"]
    )
    argv += [*auth, "--encoding=UTF8", "--locale=C"]
    return as_account(account, argv + (["--no-sync"] if no_sync else []))


def server_options(
    port: int, extra: tuple[str, ...] = (), socket_dir: str | None = None
) -> str:
    """The ``pg_ctl -o`` string (which pg_ctl hands to a shell).

    With ``socket_dir``: no TCP, a Unix socket in ``socket_dir`` only. Without
    (the tests' clusters): loopback TCP only, no Unix socket.
    """
    if socket_dir is None:
        settings = ["listen_addresses=127.0.0.1", "unix_socket_directories="]
    else:
        settings = ["listen_addresses=", f"unix_socket_directories={socket_dir}"]
    settings += extra
    return " ".join([f"-p {port}", *(f"-c {shlex.quote(s)}" for s in settings)])


def pg_ctl_argv(
    *,
    bin_dir: str,
    data_dir: str,
    action: str,
    account: str | None,
    timeout_seconds: float = 60,
    port: int | None = None,
    mode: str = "fast",
    extra_options: tuple[str, ...] = (),
    socket_dir: str | None = None,
) -> list[str]:
    """A ``pg_ctl start|stop|status`` command for ``data_dir``.

    ``start`` logs to ``<data_dir>/server.log`` (so the server does not hold our
    pipes open) and needs ``port``; ``socket_dir`` is as for
    :func:`server_options`.
    """
    argv = [os.path.join(bin_dir, "pg_ctl"), action, "-D", data_dir]
    if action in ("start", "stop"):
        argv += ["-w", "-t", str(max(1, int(timeout_seconds)))]
    if action == "start":
        if port is None:
            raise ValueError("pg_ctl start needs a port")
        log_file = os.path.join(data_dir, SERVER_LOG_NAME)
        options = server_options(port, extra_options, socket_dir)
        argv += ["-l", log_file, "-o", options]
    if action == "stop":
        argv += ["-m", mode]
    return as_account(account, argv)


def psql_argv(
    *,
    bin_dir: str,
    port: int,
    user: str,
    dbname: str,
    sql: str,
    host: str = "127.0.0.1",
) -> list[str]:
    """A psql command running ``sql`` and printing bare values.

    ``host`` is an address, or a socket directory (an absolute path).
    """
    flags = f"-X -q -At -v ON_ERROR_STOP=1 -h {host} -p {port}".split()
    return [os.path.join(bin_dir, "psql"), *flags, "-U", user, "-d", dbname, "-c", sql]


def pid_file_listening(data_dir: str) -> tuple[str, str] | None:
    """The socket directory and TCP address ``postmaster.pid`` records, or None.

    They are its fifth and sixth lines; an empty address means no TCP.
    """
    try:
        lines = Path(data_dir, "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 6:
        return None
    return lines[4].strip(), lines[5].strip()


def log_size(data_dir: str) -> int:
    """The current size of the server log (0 when there is none)."""
    try:
        return os.path.getsize(os.path.join(data_dir, SERVER_LOG_NAME))
    except OSError:
        return 0


def log_since(data_dir: str, offset: int, limit: int = 4000) -> str:
    """What the server logged after ``offset`` (at most its last ``limit`` bytes)."""
    try:
        with open(os.path.join(data_dir, SERVER_LOG_NAME), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(offset, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def dsn_for(
    port: int, user: str, dbname: str = DATABASE_NAME, host: str = "127.0.0.1"
) -> str:
    """The DSN of a database of a cluster (``host`` may be a socket directory)."""
    return f"host={host} port={port} dbname={dbname} user={user}"


def child_env() -> dict[str, str]:
    """A small environment for the PostgreSQL tools: no stray PG* settings."""
    path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    return {"PATH": path, "LANG": "C", "LC_ALL": "C"}
