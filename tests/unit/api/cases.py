"""The inputs the API input tests send: every query parameter of every
route (read from the parsers' own lists), text PostgreSQL or psycopg2
cannot take, and every whole-number parameter with its largest value."""

from __future__ import annotations

from ridad.api.app import LIST_PARAMETERS
from ridad.api.inputs import BIGINT_MAX, INT_MAX, UINT64_MAX
from ridad.api.mbs_params import (
    COMPONENT_COLUMN_FILTERS,
    MODULE_COLUMN_FILTERS,
    PAGING,
    TIME_FILTERS,
)

HOST = "http://ridad"
RIDA_LIST = "/rida/module-builds/"
MBS_MODULES = "/module-build-service/1/module-builds/"
MBS_COMPONENTS = "/module-build-service/2/component-builds/"
MBS_MODULE = "/module-build-service/2/module-builds/1"
MBS_COMPONENT = "/module-build-service/1/component-builds/1"
COMPONENT_TIMES = ("modified_after", "modified_before")

#: Every query parameter each route knows, read from the parsers' own lists.
PARAMETERS = {
    RIDA_LIST: sorted(LIST_PARAMETERS),
    MBS_MODULES: sorted(
        {*PAGING, *MODULE_COLUMN_FILTERS, *TIME_FILTERS, "state", "nsvc"}
    ),
    MBS_COMPONENTS: sorted(
        {*PAGING, *COMPONENT_COLUMN_FILTERS, *COMPONENT_TIMES, "state"}
    ),
    MBS_MODULE: ["short", "verbose"],
    MBS_COMPONENT: ["short", "verbose"],
}
EVERY_PARAMETER = [(path, key) for path, keys in PARAMETERS.items() for key in keys]
#: NUL, NUL inside text, bytes that are not UTF-8, a UTF-8-encoded lone
#: surrogate and the overlong two-byte NUL.
BAD_TEXT = ("%00", "a%00b", "%ff", "%ED%A0%80", "%C0%80")
NINES = "9" * 5000

#: Every whole-number parameter with the largest value it accepts.
INTEGER_PARAMETERS = [
    (RIDA_LIST, "page", INT_MAX),
    (RIDA_LIST, "per_page", 1000),
    (MBS_MODULES, "page", INT_MAX),
    (MBS_MODULES, "per_page", 100),
    (MBS_MODULES, "version", UINT64_MAX),
    (MBS_COMPONENTS, "page", INT_MAX),
    (MBS_COMPONENTS, "per_page", 100),
    (MBS_COMPONENTS, "task_id", BIGINT_MAX),
    (MBS_COMPONENTS, "batch", INT_MAX),
    (MBS_COMPONENTS, "module_build", BIGINT_MAX),
    (MBS_COMPONENTS, "module_id", BIGINT_MAX),
]
