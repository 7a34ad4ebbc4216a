"""load_modulemd gives libmodulemd's verdict on hundreds of mutated corpus documents.

libmodulemd itself (Debian's gir1.2-modulemd-2.0, through the system
``/usr/bin/python3`` and ``tests/modulemd_oracle.py`` in one child process)
judges every document; ridad must agree, valid or invalid, except where
``docs/modulemd.md`` documents ridad as deliberately stricter (ALLOWED).
"""

from __future__ import annotations

import json
import random
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd
from tests.helpers import missing
from tests.unit.modulemd.mutations import MUTATIONS, mutate
from tests.unit.modulemd.test_corpus import IN_SCOPE

SYSTEM_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).resolve().parents[2] / "modulemd_oracle.py"
SEED = 20261203
DOCUMENTS = 1000
PACKAGES = "apt-get install -y gir1.2-modulemd-2.0 python3-gi"


@dataclass(frozen=True)
class Case:
    """One mutated document and both verdicts on it."""

    kind: str
    base: str
    text: str
    libmodulemd: str  # "valid", "invalid" or "crash"
    libmodulemd_message: str
    ridad: str
    ridad_messages: tuple[str, ...]


def _ridad_says(messages: tuple[str, ...], *needles: str) -> bool:
    """Whether every one of ridad's problems contains one of ``needles``."""
    return bool(messages) and all(any(n in m for n in needles) for m in messages)


#: Where ridad is documented as stricter than libmodulemd (it refuses what
#: libmodulemd accepts), each with why; nothing may go the other way.
ALLOWED: dict[str, tuple[str, Callable[[Case], bool]]] = {
    "duplicate key": (
        "ridad refuses a repeated mapping key anywhere; libmodulemd keeps the"
        " last one outside dependency mappings (docs/modulemd.md section 1)",
        lambda c: _ridad_says(c.ridad_messages, "duplicate key"),
    ),
    "unknown root key after data": (
        "libmodulemd never reads the root keys after data; ridad refuses"
        " unknown ones wherever they are (section 1)",
        lambda c: _ridad_says(c.ridad_messages, "unknown top-level key"),
    ),
    "negative after whitespace": (
        "libmodulemd looks for '-' only at the first character, so ' -5' wraps"
        " round 2**64 in an unsigned field; ridad refuses it as negative",
        lambda c: _ridad_says(c.ridad_messages, "the integer value is negative"),
    ),
    "dates": (
        "libmodulemd reads a date leniently (2020-1-1, 2020-01-01x and"
        " ' 2020-01-01' pass) and crashes on some others (x2020-01-01);"
        " ridad takes exactly YYYY-MM-DD of a real day (sections 1 and 7)",
        lambda c: _ridad_says(c.ridad_messages, "is not a YYYY-MM-DD date"),
    ),
    "ignored api/filter errors": (
        "libmodulemd ignores an error inside api, filter or demodularized"
        " (a defect, section 7); ridad reports it",
        lambda c: _ridad_says(
            c.ridad_messages, "data.api.", "data.filter.", "data.demodularized."
        ),
    ),
    "buildorder beyond 32 bits": (
        "libmodulemd stores an rpm buildorder in 32 bits (4294967296 becomes 0,"
        " and then a buildafter is allowed); ridad keeps int64 (section 7)",
        lambda c: (
            _ridad_says(
                c.ridad_messages, "buildorder and a buildafter", "mix buildorder"
            )
            and "4294967296" in c.text
        ),
    ),
}


def _libmodulemd_verdicts(texts: list[str]) -> list[tuple[str, str]]:
    """libmodulemd's verdict on each text, restarting the oracle after a crash."""
    verdicts: list[tuple[str, str]] = []
    while len(verdicts) < len(texts):
        batch = texts[len(verdicts) :]
        done = subprocess.run(
            [SYSTEM_PYTHON, str(ORACLE)],
            input=json.dumps(batch),
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = done.stdout.splitlines()
        for line in lines:
            answer = json.loads(line)
            verdicts.append(
                ("valid" if answer["valid"] else "invalid", answer["message"])
            )
        if done.returncode != 0 and len(lines) < len(batch):
            if done.returncode > 0:  # not a signal: the oracle itself is broken
                raise AssertionError(f"the oracle failed: {done.stderr[-2000:]}")
            verdicts.append(("crash", f"signal {-done.returncode}"))
    return verdicts


def _ridad_verdict(text: str) -> tuple[str, tuple[str, ...]]:
    """ridad's verdict and problem messages."""
    try:
        load_modulemd(text)
    except Unprocessable as error:
        errors = error.details.get("errors") or [{"path": "", "message": error.message}]
        return "invalid", tuple(f"{e['path']}: {e['message']}" for e in errors)
    return "valid", ()


def _generate() -> list[tuple[str, str, str]]:
    """(kind, base file, text) for DOCUMENTS mutants, every kind in turn."""
    rng = random.Random(SEED)
    bases = [(entry.name, entry.read().decode("utf-8")) for entry in IN_SCOPE]
    assert bases, "the modulemd corpus (tests/data/modulemd-corpus) is missing"
    kinds = sorted(MUTATIONS)
    generated: list[tuple[str, str, str]] = []
    attempts = 0
    while len(generated) < DOCUMENTS and attempts < DOCUMENTS * 5:
        kind = kinds[attempts % len(kinds)]
        attempts += 1
        name, text = rng.choice(bases)
        mutated = mutate(rng, text, kind)
        if mutated is not None:
            generated.append((kind, name, mutated))
    return generated


def _require_libmodulemd() -> None:
    """Skip (fail under CI=true) unless the system Python can load libmodulemd."""
    if Path(SYSTEM_PYTHON).exists():
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Modulemd', '2.0')"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return
    missing(f"libmodulemd is not available to {SYSTEM_PYTHON} ({PACKAGES})")


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    """Every mutant with libmodulemd's and ridad's verdicts."""
    _require_libmodulemd()
    generated = _generate()
    verdicts = _libmodulemd_verdicts([text for _, _, text in generated])
    return [
        Case(kind, base, text, lib, lib_message, *_ridad_verdict(text))
        for (kind, base, text), (lib, lib_message) in zip(
            generated, verdicts, strict=True
        )
    ]


def _explained(case: Case) -> str | None:
    """The ALLOWED reason for a disagreement, if one applies."""
    if case.libmodulemd != "valid" or case.ridad != "invalid":
        return None
    return next((name for name, (_, check) in ALLOWED.items() if check(case)), None)


def _describe(case: Case) -> str:
    """One disagreement, briefly."""
    return (
        f"{case.kind} on {case.base}: libmodulemd {case.libmodulemd}"
        f" ({case.libmodulemd_message[:100]}), ridad {case.ridad}"
        f" ({'; '.join(case.ridad_messages)[:200]})"
    )


def test_ridad_agrees_with_libmodulemd_on_every_mutant(cases: list[Case]) -> None:
    """Wherever ridad is not documented as stricter, both give the same verdict."""
    disagreements = [
        case
        for case in cases
        if case.libmodulemd != "crash"
        and case.libmodulemd != case.ridad
        and _explained(case) is None
    ]
    listing = "\n".join(_describe(case) for case in disagreements[:30])
    assert not disagreements, f"{len(disagreements)} disagreements:\n{listing}"


def test_mutants_cover_every_kind_and_both_verdicts(cases: list[Case]) -> None:
    """Hundreds of mutants of at least 25 kinds, with plenty of valid and invalid ones."""
    kinds = Counter(case.kind for case in cases)
    verdicts = Counter(case.libmodulemd for case in cases)
    assert len(cases) == DOCUMENTS
    assert len(kinds) >= 25 and set(kinds) == set(MUTATIONS)
    assert verdicts["valid"] >= DOCUMENTS // 5
    assert verdicts["invalid"] >= DOCUMENTS // 5
    assert verdicts["crash"] <= 5


def test_every_allowed_difference_occurs(cases: list[Case]) -> None:
    """Each documented difference explains at least one mutant, so none goes stale."""
    used = Counter(_explained(case) for case in cases)
    assert {name for name in ALLOWED if not used[name]} == set()
