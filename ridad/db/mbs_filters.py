"""The SQL of the MBS list filters that are more than ``column op value``:
base module buildrequires, virtual streams, buildrequires by name, the
module that built an RPM, the content-generator tag; and the ``siblings``
column of verbose v2 answers.

Each entry is a fixed boolean expression over ``module_builds`` with
``%s`` placeholders; ``Condition(<key>, "expr", params)`` names one. The
base module buildrequires are the ``buildrequires`` entries marked
``base_module``, joined to the base module's own row by NSVC (an entry
recorded before base modules were imported names version 0 and the
default context, as their start-up import does).
"""

from __future__ import annotations

_BASE_BR = (
    "EXISTS (SELECT 1 FROM jsonb_each(module_builds.buildrequires) AS br(name, info)"
    " JOIN module_builds bm ON bm.name = br.name"
    " AND bm.stream = br.info->>'stream'"
    " AND bm.version = coalesce(br.info->>'version', '0')::numeric"
    " AND bm.context = coalesce(br.info->>'context', '00000000')"
    " WHERE br.info->>'base_module' = 'true' AND {})"
)

EXPRESSIONS = {
    "base_module_br": _BASE_BR.format(
        "bm.name = %s AND bm.stream = %s AND bm.version = %s AND bm.context = %s"
    ),
    "base_module_br_name": _BASE_BR.format("bm.name = %s"),
    "base_module_br_stream": _BASE_BR.format("bm.stream = %s"),
    "base_module_br_stream_version_lte": _BASE_BR.format("bm.stream_version <= %s"),
    "base_module_br_stream_version_gte": _BASE_BR.format("bm.stream_version >= %s"),
    # A base module offering any of the virtual streams (GIN-free: base
    # modules are few).
    "virtual_stream": "module_builds.virtual_streams && %s::text[]",
    # Built against a module of that name (the GIN index on buildrequires).
    "buildrequires": "module_builds.buildrequires ? %s",
    # ... of that name and stream (jsonb containment, the same index).
    "buildrequires_stream": "module_builds.buildrequires @> %s::jsonb",
    # A component whose NVR ends in the RPM's version-release: a module's
    # %dist makes that release its own (LIKE pattern, escaped).
    "rpm": (
        "EXISTS (SELECT 1 FROM component_builds c"
        " WHERE c.module_build_id = module_builds.id AND c.state = 'complete'"
        " AND c.nvr LIKE %s)"
    ),
    "cg_imported": "module_builds.cg_state = 'imported'",
    "nothing": "FALSE",
}

#: MBS's ``siblings``: the other builds of the same name, stream, version
#: and scratch flag (other contexts), by id.
SIBLINGS_COLUMN = (
    "ARRAY(SELECT s.id FROM module_builds s WHERE s.name = module_builds.name"
    " AND s.stream = module_builds.stream AND s.version = module_builds.version"
    " AND s.scratch = module_builds.scratch AND s.id <> module_builds.id"
    " ORDER BY s.id) AS siblings"
)


def like_suffix(text: str) -> str:
    """A LIKE pattern matching what ends in ``-<text>``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%-{escaped}"
