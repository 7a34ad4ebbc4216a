"""Helpers shared by the tests: Deferred results, ports, polling, test clusters."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

from ridad.db.cluster import (
    cluster_account,
    dsn_for,
    find_bin_dir,
    initdb_argv,
    log_since,
    log_size,
    make_private_dir,
    pg_ctl_argv,
    pick_free_port,
    superuser_name,
)

T = TypeVar("T")

#: Server settings that make a throwaway cluster fast; durability is not needed.
FAST_SETTINGS = (
    "fsync=off",
    "full_page_writes=off",
    "max_connections=200",
)


def missing(reason: str) -> NoReturn:
    """Skip the test for lack of a system program, or fail it under ``CI=true``.

    ``reason`` names what is missing and the package that brings it, so a
    skip outside CI always says what to install.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_program(program: str, package: str) -> str:
    """The path of ``program``; skip (or fail under CI) naming ``package``."""
    path = shutil.which(program) or (
        program if os.path.isabs(program) and os.access(program, os.X_OK) else None
    )
    if path is None:
        missing(f"{program} is not installed (apt-get install -y {package})")
    return path


async def run_inline(blocking: Callable[[], T]) -> T:
    """A ``run_blocking`` for tests on a fake clock: the work runs at once,
    on the calling thread (production runs it in the reactor's pool)."""
    return blocking()


def result_of(d: Deferred[T]) -> T:
    """Return the result of ``d``, which must have fired; raise its failure.

    Like trial's ``successResultOf``: a Deferred that has not fired yet is a
    test failure, not something to wait for.
    """
    outcome: list[Any] = []
    d.addBoth(outcome.append)
    if not outcome:
        raise AssertionError(f"{d!r} has not fired yet")
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    result: T = outcome[0]
    return result


def failure_of(d: Deferred[Any], *expected: type[BaseException]) -> Failure:
    """Return the Failure ``d`` already fired with, checking its type."""
    outcome: list[Any] = []
    d.addBoth(outcome.append)
    if not outcome:
        raise AssertionError(f"{d!r} has not fired yet")
    if isinstance(outcome[0], Failure):
        failure: Failure = outcome[0]
        if expected and not failure.check(*expected):
            raise AssertionError(f"{d!r} failed with {failure.value!r}")
        return failure
    raise AssertionError(f"{d!r} succeeded with {outcome[0]!r}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return pick_free_port()


async def wait_for(
    predicate: Callable[[], Awaitable[bool] | bool],
    timeout_seconds: float,
    clock: Any,
    interval_seconds: float = 0.05,
) -> None:
    """Poll ``predicate`` (sync or async) on ``clock`` until it is true.

    Raises AssertionError when it is still false after ``timeout_seconds``.
    """
    deadline = clock.seconds() + timeout_seconds
    while True:
        outcome = predicate()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if clock.seconds() >= deadline:
            raise AssertionError(f"Condition not met within {timeout_seconds} s")
        await deferLater(clock, interval_seconds, lambda: None)


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a command for a test fixture; raise with its output if it fails."""
    done = subprocess.run(
        argv, capture_output=True, text=True, cwd="/", timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}{done.stdout}"
        )
    return done


class PrivateCluster:
    """A throwaway PostgreSQL cluster for tests, driven synchronously.

    It lives in a fresh directory under the temporary directory that the
    ``postgres`` account can traverse, listens on 127.0.0.1 only, and can be
    stopped and started again on the same port.
    """

    def __init__(self, *, base_dir: str, bin_dir: str, account: str | None) -> None:
        self.base_dir = base_dir
        self.bin_dir = bin_dir
        self.account = account
        self.data_dir = os.path.join(base_dir, "data")
        self.user = superuser_name(account)
        self.port = pick_free_port()

    @classmethod
    def create(cls) -> PrivateCluster:
        """initdb a new cluster and start it; the caller must ``destroy()`` it."""
        bin_dir = find_bin_dir()
        account = cluster_account()
        base_dir = tempfile.mkdtemp(prefix="ridad-test-pg-")
        os.chmod(base_dir, 0o711)
        cluster = cls(base_dir=base_dir, bin_dir=bin_dir, account=account)
        try:
            make_private_dir(cluster.data_dir, account)
            run(
                initdb_argv(
                    bin_dir=bin_dir,
                    data_dir=cluster.data_dir,
                    superuser=cluster.user,
                    account=account,
                    no_sync=True,
                )
            )
            cluster.start(new_port_on_conflict=True)
        except BaseException:
            shutil.rmtree(base_dir, ignore_errors=True)
            raise
        return cluster

    @property
    def dsn(self) -> str:
        """The DSN of the cluster's ``postgres`` database."""
        return dsn_for(self.port, self.user, "postgres")

    def start(self, *, new_port_on_conflict: bool = False) -> None:
        """Start the server on ``self.port`` (pg_ctl start -w)."""
        for _ in range(5):
            offset = log_size(self.data_dir)
            try:
                run(self._pg_ctl("start"))
                return
            except RuntimeError:
                logged = log_since(self.data_dir, offset)
                if not new_port_on_conflict or "already in use" not in logged:
                    raise
                self.port = pick_free_port()
        raise RuntimeError("No free port for the test cluster")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``immediate`` is like a crash (no shutdown checkpoint)."""
        run(self._pg_ctl("stop", mode=mode))

    def destroy(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        status = subprocess.run(
            self._pg_ctl("status"), capture_output=True, cwd="/", check=False
        )
        if status.returncode == 0:
            self.stop("immediate")
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def _pg_ctl(self, action: str, mode: str = "fast") -> list[str]:
        return pg_ctl_argv(
            bin_dir=self.bin_dir,
            data_dir=self.data_dir,
            action=action,
            account=self.account,
            port=self.port,
            mode=mode,
            extra_options=FAST_SETTINGS,
        )
