"""Dispatching XML-RPC calls: method lookup, session checks, transactions.

The order of checks is the hub's: an unknown method fails before the
session is looked at; then the session and call number are checked once per
HTTP request; then the arguments. A call that writes runs on a copy of the
state, which becomes live only if the call succeeds (and its reply could be
encoded). A multicall is one transaction in which each entry that writes
gets a savepoint, so a failed entry is undone alone.

A test may ask that the answer of the next request calling some method (by
itself or inside a multicall) be lost: the request runs and commits as
usual, and the HTTP layer then answers as a failing proxy would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import koji
import koji.util

from ridad.kojisim import (
    api_archives,
    api_blocks,
    api_builds,
    api_cg,
    api_packages,
    api_repos,
    api_rpms,
    api_session,
    api_tags,
    api_targets,
    api_task_output,
    api_tasks,
    cg_import,
    uploads,
)
from ridad.kojisim.context import Call, HubCore, running
from ridad.kojisim.exports import Export
from ridad.kojisim.sessions import Credentials, RequestInfo
from ridad.kojisim.state import HubState
from ridad.kojisim.wire import (
    dump_fault,
    dump_result,
    fault_for,
    koji_error,
    multicall_fault,
    parse_call,
)

__all__ = ["MULTICALL_METHODS", "Answer", "Dispatcher", "all_exports"]

#: The names the hub handles as multicall (not listed by ``_listapi``).
MULTICALL_METHODS = frozenset({"multiCall", "system.multicall"})

Commit = Callable[[], None]


@dataclass(frozen=True)
class Answer:
    """A response document; ``lost`` says how a test asked to lose it (or None)."""

    document: str
    lost: str | None = None


def all_exports() -> dict[str, Export]:
    """Every API method kojisim implements, by name."""
    modules = (
        api_session,
        api_tags,
        api_packages,
        api_blocks,
        api_targets,
        api_tasks,
        api_builds,
        api_repos,
        api_task_output,
        api_rpms,
        api_cg,
        cg_import,
        api_archives,
        uploads,
    )
    merged: dict[str, Export] = {}
    for module in modules:
        merged.update(module.exports.entries)
    return merged


def _methods_of(method: str | None, params: tuple[Any, ...]) -> set[str]:
    """The method of a request, and those of its entries if it is a multicall."""
    names = {method} if isinstance(method, str) else set()
    if method in MULTICALL_METHODS and params and isinstance(params[0], list):
        names.update(
            entry["methodName"]
            for entry in params[0]
            if isinstance(entry, dict) and isinstance(entry.get("methodName"), str)
        )
    return names


def _multi_call(self: Any, calls: Any) -> Any:
    """Stands for the hub's ``multiCall(calls)``, for its argument errors."""
    return calls


_multi_call.__qualname__ = "ModXMLRPCRequestHandler.multiCall"


class Dispatcher:
    """Runs XML-RPC requests against a L{HubCore}."""

    def __init__(self, core: HubCore) -> None:
        """Serve all of kojisim's API on ``core``."""
        self._core = core
        self._exports = all_exports()
        self._injected: list[tuple[str, int, str]] = []
        self._lose: list[tuple[str, str]] = []

    def fail_next(self, method: str, fault_code: int, message: str) -> None:
        """Make the next call of ``method`` fail with this fault."""
        self._injected.append((method, fault_code, message))

    def lose_answer(self, method: str, how: str) -> None:
        """Lose the answer of the next request calling ``method`` (alone or
        in a multicall; ``rawUpload`` for a fast upload), after it ran."""
        self._lose.append((method, how))

    @property
    def answers_to_lose(self) -> int:
        """How many ``lose_answer`` requests have not met their request yet."""
        return len(self._lose)

    def handle_rpc(self, body: bytes, info: RequestInfo) -> Answer:
        """Answer an XML-RPC request body with a response document.

        :raises BadRequest: the body is empty or not XML (HTTP 400).
        """
        params, method = parse_call(body)
        lost = self._take_lost(_methods_of(method, params))
        try:
            result, commit = self._top_level(method, params, info)
            document = dump_result(result)
        except Exception as error:
            return Answer(dump_fault(*fault_for(error)), lost)
        if commit is not None:
            commit()
        return Answer(document, lost)

    def handle_upload(self, body: bytes, info: RequestInfo) -> Answer:
        """Answer a fast (octet-stream) upload with a response document."""
        lost = self._take_lost({"rawUpload"})
        try:
            credentials = self._identify(info, None)
            call = Call(self._core, self._core.state, "rawUpload", credentials, info)
            return Answer(
                dump_result(uploads.fast_upload(call, info.query, body)), lost
            )
        except Exception as error:
            return Answer(dump_fault(*fault_for(error)), lost)

    def _take_lost(self, methods: set[str]) -> str | None:
        """How a request calling ``methods`` is to lose its answer, if it is."""
        for index, (name, how) in enumerate(self._lose):
            if name in methods:
                del self._lose[index]
                return how
        return None

    def _identify(self, info: RequestInfo, method: str | None) -> Credentials:
        """Check the request's session for ``method``."""
        return self._core.sessions.identify(info, method, self._core.now())

    def _lookup(self, method: Any) -> Export:
        """The export called ``method``.

        :raises koji.GenericError: ``Invalid method: x``.
        """
        export = self._exports.get(method) if isinstance(method, str) else None
        if export is None:
            raise koji.GenericError(f"Invalid method: {method}")
        return export

    def _top_level(
        self, method: str | None, params: tuple[Any, ...], info: RequestInfo
    ) -> tuple[Any, Commit | None]:
        """Run a request's call; answer the result and how to commit it."""
        if method in MULTICALL_METHODS:
            credentials = self._identify(info, method)
            return self._multicall(params, credentials, info)
        export = self._lookup(method)
        credentials = self._identify(info, export.name)
        state = self._core.state.copy() if export.writes else self._core.state
        call = Call(self._core, state, export.name, credentials, info)
        result = self._invoke(export, params, call)
        if export.writes and call.commit_pending:
            return result, lambda: self._core.commit(state, credentials)
        return result, None

    def _invoke(self, export: Export, params: Any, call: Call) -> Any:
        """Call an export with decoded positional and keyword arguments."""
        args, opts = koji.decode_args(*params)
        with running(call):
            self._raise_injected(export.name)
            return koji.util.call_with_argcheck(export.call, args, opts)

    def _raise_injected(self, method: str) -> None:
        """Raise the fault a test asked this method's next call to fail with."""
        for index, (name, code, message) in enumerate(self._injected):
            if name == method:
                del self._injected[index]
                raise koji_error(code, message)

    def _multicall(
        self, params: tuple[Any, ...], credentials: Credentials, info: RequestInfo
    ) -> tuple[list[Any], Commit]:
        """Run a multicall as one transaction; it always commits."""
        results, working = self._run_calls(
            params, self._core.state.copy(), credentials, info
        )
        return results, lambda: self._core.commit(working, credentials)

    def _run_calls(
        self,
        params: Any,
        working: HubState,
        credentials: Credentials,
        info: RequestInfo,
    ) -> tuple[list[Any], HubState]:
        """Run each call of a multicall on ``working``; answer results and state."""
        args, opts = koji.decode_args(*params)
        calls = koji.util.call_with_argcheck(_multi_call.__get__(self), args, opts)
        results = []
        for entry in calls:
            result, working = self._multicall_entry(entry, working, credentials, info)
            results.append(result)
        return results, working

    def _multicall_entry(
        self, entry: Any, working: HubState, credentials: Credentials, info: RequestInfo
    ) -> tuple[Any, HubState]:
        """One multicall entry: ``[result]`` or a fault struct, and the state after.

        An entry that writes runs after a savepoint and is undone alone if it fails.
        """
        savepoint: HubState | None = None
        try:
            name, params = entry["methodName"], entry["params"]
            if name in MULTICALL_METHODS:
                savepoint = working.copy()
                nested, working = self._run_calls(params, working, credentials, info)
                return [nested], working
            export = self._lookup(name)
            savepoint = working.copy() if export.writes else None
            call = Call(self._core, working, export.name, credentials, info)
            return [self._invoke(export, params, call)], working
        except Exception as error:
            return multicall_fault(
                error
            ), savepoint if savepoint is not None else working
