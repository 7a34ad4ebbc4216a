"""The recorded content-generator import (exchanges 095-189 in
``tests/data/koji-recordings/cg/``) as values for the unit tests: what the
hub answered, what the koji client sent, and the module that was imported
(``cgmod:rolling-2:20261101120000:c0ffee42``, ridad's build 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import koji
from koji import xmlrpcplus

from ridad.domain.builds import ModuleBuild
from ridad.domain.module_import import FinalDocument
from ridad.domain.states import ModuleState
from tests.contract.recordings import Exchange, read_exchange
from tests.data import KOJI_RECORDINGS

MODULE_TAG = "module-cgmod-rolling-2-20261101120000-c0ffee42"
NVR = "cgmod-rolling_2-20261101120000.c0ffee42"
SCMURL = (
    "https://src.example.invalid/modules/cgmod.git"
    "?#5555555555555555555555555555555555555555"
)
#: The token placeholder of 164 (the reservation the good import used).
TOKEN = "MaskedToken03" + "x" * 51


def exchange(number: int) -> Exchange:
    """The recorded exchange ``number`` of 095-189."""
    (path,) = (KOJI_RECORDINGS / "cg").glob(f"{number:03d}-*.xml")
    return read_exchange(path)


def answer(number: int) -> Any:
    """What the hub answered (a ``koji.GenericError`` for a fault)."""
    try:
        params, _ = xmlrpcplus.loads(exchange(number).response_body)
    except xmlrpcplus.Fault as fault:
        error = koji.convertFault(fault)
        if not isinstance(error, koji.GenericError):  # fault 1: a Python error
            error = koji.GenericError(fault.faultString)
            error.faultCode = fault.faultCode
        return error
    return params[0]


def request(number: int) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """The method, args and kwargs the koji client sent."""
    params, method = xmlrpcplus.loads(exchange(number).request_body)
    args, kwargs = koji.decode_args(*params)
    return method, tuple(args), kwargs


def uploaded(number: int) -> bytes:
    """The bytes a recorded fast upload sent."""
    return exchange(number).request_body


#: ridad's build of the recorded module, as it would have it at the import.
BUILD = ModuleBuild(
    id=7,
    name="cgmod",
    stream="rolling-2",
    version=20261101120000,
    context="c0ffee42",
    state=ModuleState.BUILD,
    state_reason=None,
    owner="kojiadmin",
    scmurl=SCMURL,
    scm_commit="5" * 40,
    branch="rolling-2",
    modulemd="",
    build_context="b" * 40,
    runtime_context="r" * 40,
    buildrequires={},
    requires={},
    koji_tag=MODULE_TAG,
    scratch=False,
    time_submitted=datetime.fromtimestamp(1796283251, tz=UTC),
    time_modified=datetime.fromtimestamp(1796283251, tz=UTC),
    time_completed=None,
)

#: The documents the recorded client uploaded (145, 148) and its log (151).
DOCUMENTS = (
    FinalDocument("modulemd.txt", None, uploaded(145).decode()),
    FinalDocument("modulemd.x86_64.txt", "x86_64", uploaded(148).decode()),
)
LOG = uploaded(151).decode()
