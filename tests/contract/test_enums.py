"""kojisim's enums and fault codes are the koji package's, and the koji
package's are the recorded hub's."""

from __future__ import annotations

import ast
from pathlib import Path

import koji
import pytest

from ridad.kojisim.wire import HUB_VERSION, koji_error
from tests.contract.recordings import parse_document, plain, read_exchange
from tests.data import KOJI_RECORDINGS

SOURCES = Path(__file__).resolve().parents[2] / "ridad" / "kojisim"
RECORDINGS = KOJI_RECORDINGS


def _result(name: str) -> object:
    """The recorded result (or fault struct) of one exchange."""
    return plain(parse_document(read_exchange(RECORDINGS / name).response_body)[1])


def test_recorded_states_are_the_koji_package_enums() -> None:
    """Task, build, repo, user and auth values the hub sent equal koji's constants."""
    assert _result("045-getTaskInfo-free.xml")["state"] == koji.TASK_STATES["FREE"]
    polled = [
        entry[0]["state"] for entry in _result("048-multiCall-poll-getTaskInfo.xml")[:3]
    ]
    assert polled == [koji.TASK_STATES[s] for s in ("CLOSED", "CLOSED", "FAILED")]
    assert (
        _result("074-getTaskInfo-canceled.xml")["state"] == koji.TASK_STATES["CANCELED"]
    )
    assert _result("054-getBuild-nvr.xml")["state"] == koji.BUILD_STATES["COMPLETE"]
    assert _result("070-getRepo-by-tag.xml")["state"] == koji.REPO_STATES["READY"]
    user = _result("007-getLoggedInUser-kojiadmin.xml")
    assert user["usertype"] == koji.USERTYPES["NORMAL"]
    assert user["status"] == koji.USER_STATUS["NORMAL"]
    assert user["authtype"] == koji.AUTHTYPES["NORMAL"]
    assert _result("045-getTaskInfo-free.xml")["priority"] == koji.PRIO_DEFAULT + 10
    assert _result("001-getAPIVersion-anonymous.xml") == koji.API_VERSION
    assert _result("002-getKojiVersion-anonymous.xml") == HUB_VERSION


def test_every_koji_fault_code_maps_back_to_its_koji_class() -> None:
    """A fault code kojisim raises by number becomes the koji class with that code."""
    classes = [koji.GenericError, *_subclasses(koji.GenericError)]
    for cls in classes:
        error = koji_error(cls.faultCode, "message")
        assert type(error) is cls, cls
        assert koji.convertFault(koji.Fault(cls.faultCode, "m")).__class__ is cls


def _subclasses(cls: type) -> list[type]:
    """Every subclass of ``cls``, recursively."""
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


@pytest.mark.parametrize("path", sorted(SOURCES.glob("*.py")), ids=lambda p: p.name)
def test_kojisim_copies_no_fault_codes_or_state_numbers(path: Path) -> None:
    """No kojisim module spells a fault code (1000-1024) as a number."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    numbers = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and type(node.value) is int
        and 1000 <= node.value <= 1024
    ]
    assert numbers == []
