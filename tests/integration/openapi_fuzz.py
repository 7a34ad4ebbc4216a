"""schemathesis against a live ridad: bounded, seeded Hypothesis runs per
operation of the served OpenAPI description, every answer checked against it.

Blocking (schemathesis sends with ``requests``): the test runs a ``Fuzzer``
in a thread while the reactor serves. Failures are collected, not raised, so one
run lists every broken answer of every operation, and nothing is shrunk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: Examples per operation and generation mode.
MAX_EXAMPLES = 25
SEED = 20261127
REQUEST_TIMEOUT_SECONDS = 10.0
DESCRIPTION_PATH = "/rida/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: The ``config.stash`` key of the summaries printed at the end of the run
#: (``pytest_terminal_summary`` in conftest.py).
SUMMARIES = pytest.StashKey[list[str]]()


@dataclass(frozen=True)
class Finding:
    """One request whose answer failed a check."""

    operation: str
    mode: str
    status: int
    checks: tuple[str, ...]
    curl: str
    message: str


@dataclass
class FuzzReport:
    """Requests per operation and status, and the findings."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    #: (operation, mode) pairs with no case to generate, such as negative
    #: cases of an operation that takes no input.
    empty: list[tuple[str, str]] = field(default_factory=list)

    def count(self, operation: str, status: int) -> None:
        """Note one answer of ``operation``."""
        self.statuses.setdefault(operation, Counter())[status] += 1

    @property
    def requests(self) -> int:
        """How many requests were sent."""
        return sum(sum(c.values()) for c in self.statuses.values())

    def summary(self) -> str:
        """One line per operation: requests, then their count per status."""
        lines = [
            f"schemathesis {schemathesis.__version__}: {self.requests} requests,"
            f" {len(self.findings)} failing; max_examples {MAX_EXAMPLES} per"
            f" operation and mode ({', '.join(MODES)}), seed {SEED}, derandomized"
        ]
        width = max(len(op) for op in self.statuses) if self.statuses else 0
        for operation, counts in sorted(self.statuses.items(), key=_by_path):
            by_status = " ".join(f"{s}:{n}" for s, n in sorted(counts.items()))
            lines.append(
                f"  {operation:<{width}}  {sum(counts.values()):4d}  {by_status}"
            )
        if self.empty:
            empty = ", ".join(f"{op} ({mode})" for op, mode in self.empty)
            lines.append(f"  no case to generate: {empty}")
        return "\n".join(lines)

    def findings_text(self, limit: int = 40) -> str:
        """The findings, grouped by operation, status and failed checks."""
        groups: dict[tuple[str, int, tuple[str, ...]], list[Finding]] = {}
        for finding in self.findings:
            key = (finding.operation, finding.status, finding.checks)
            groups.setdefault(key, []).append(finding)
        lines = []
        for (operation, status, checks), found in list(groups.items())[:limit]:
            first = found[0]
            lines.append(
                f"- {operation} -> {status} ({', '.join(checks)}), {len(found)}x,"
                f" e.g. {first.curl}\n    {first.message[:600]}"
            )
        return "\n".join(lines)


def _by_path(item: tuple[str, object]) -> tuple[str, str]:
    method, _, path = item[0].partition(" ")
    return path, method


def _check_names(failures: Iterable[Failure]) -> tuple[str, ...]:
    names = set()
    for failure in failures:
        names.update(failure.checks or (type(failure).__name__,))
    return tuple(sorted(names))


class Fuzzer:
    """The served description, loaded with schemathesis, and one session to
    the server; every case sent through it is counted and checked."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.report = FuzzReport()
        # Not from_url: it leaves out the operation serving the schema itself.
        served = self.session.get(
            base_url + DESCRIPTION_PATH, timeout=REQUEST_TIMEOUT_SECONDS
        )
        served.raise_for_status()
        self.schema = schemathesis.openapi.from_dict(served.json())

    def case(self, method: str, path: str, **parts: Any) -> Any:
        """A case of the operation ``method path`` with the given parts
        (``path_parameters``, ``query``, ``body``)."""
        return self.schema[path][method.upper()].Case(**parts)

    def send(self, case: Any) -> Any:
        """Send ``case``, count its answer, record any failed check; return
        the response."""
        operation = case.operation.label
        streaming = case.operation.path.endswith("/events")
        response = case.call(
            base_url=self.base_url,
            session=self.session,
            timeout=REQUEST_TIMEOUT_SECONDS,
            stream=streaming,
        )
        self.report.count(operation, response.status_code)
        if streaming and response.status_code == 200:
            # An event stream does not end: its head is all there is to check.
            kind = response.headers.get("Content-Type", "")
            response.close()
            if kind.startswith("text/event-stream"):
                return response
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            failures: tuple[Failure, ...] = tuple(group.exceptions)
        except Failure as failure:
            failures = (failure,)
        else:
            return response
        mode = case.meta.generation.mode if case.meta is not None else "explicit"
        self.report.findings.append(
            Finding(
                operation=operation,
                mode=str(mode),
                status=response.status_code,
                checks=_check_names(failures),
                curl=case.as_curl_command(),
                message="; ".join(f"{f.title}: {f.message}" for f in failures)
                + f" [body: {response.text[:300]}]",
            )
        )
        return response

    def run(self, explicit: Callable[[Any], Iterable[Any]]) -> FuzzReport:
        """Every operation: its ``explicit`` cases, then generated ones in
        each mode.

        :return: the report of everything this fuzzer sent.
        """
        for result in self.schema.get_all_operations():
            operation = result.ok()
            for case in explicit(operation):
                self.send(case)
            for mode in MODES:
                try:
                    _run_operation(operation, mode, self.send)
                except Unsatisfiable:
                    self.report.empty.append((operation.label, str(mode)))
        return self.report

    def close(self) -> None:
        """Close the session."""
        self.session.close()


def _run_operation(
    operation: Any,
    mode: GenerationMode,
    sender: Callable[[Any], object],
) -> None:
    """Up to ``MAX_EXAMPLES`` cases of one operation in one mode."""

    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        sender(case)

    run()
