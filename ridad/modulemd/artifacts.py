"""Readers for ``data.artifacts`` and ``data.servicelevels`` (validation only).

Artifacts are ``N-E:V-R.A`` strings with a mandatory epoch, parsed from the
right as libmodulemd's ``modulemd_validate_nevra`` does. Each ``rpm-map``
entry needs every field, and its ``nevra`` must equal the fields put back
together. Service levels carry an optional ``eol`` date.
"""

from __future__ import annotations

from ridad.modulemd.problems import ProblemLog, child_path, item_path
from ridad.modulemd.scalars import (
    FieldReader,
    expect_mapping,
    map_of,
    read_date,
    read_record,
    read_str,
    read_str_list,
    read_uint64,
    record_of,
)
from ridad.modulemd.yamltree import YamlNode, YamlScalar, YamlSequence

_RPM_MAP_FIELDS = ("name", "epoch", "version", "release", "arch", "nevra")


def is_valid_nevra(nevra: str) -> bool:
    """Check the ``N-E:V-R.A`` shape the way libmodulemd does.

    From the right: ``.arch``, then ``-release``, then ``:`` before the
    version, then ``-epoch`` where the epoch starts with a digit. Arch and
    release are not checked further.

    :return: whether the string has that shape.
    """
    rest, dot, _arch = nevra.rpartition(".")
    if not dot:
        return False
    rest, dash, _release = rest.rpartition("-")
    if not dash:
        return False
    name_epoch, colon, _version = rest.rpartition(":")
    if not colon:
        return False
    _name, dash, epoch = name_epoch.rpartition("-")
    return bool(dash) and epoch[:1].isascii() and epoch[:1].isdigit()


def _read_artifact_rpms(
    node: YamlNode, path: str, log: ProblemLog
) -> tuple[str, ...] | None:
    """Read ``artifacts.rpms``, checking each NEVRA."""
    rpms = read_str_list(node, path, log)
    if rpms is None:
        return None
    is_list = isinstance(node, YamlSequence)
    items = node.items if isinstance(node, YamlSequence) else (node,)
    for index, item in enumerate(items):
        if not isinstance(item, YamlScalar) or is_valid_nevra(item.value):
            continue
        log.add(
            item_path(path, index) if is_list else path,
            item.location,
            f"artifact {item.value!r} is not in N-E:V-R.A form (the epoch is required)",
        )
    return rpms


def _read_rpm_map_entry(node: YamlNode, path: str, log: ProblemLog) -> None:
    """Read one rpm-map entry: every field present, ``nevra`` consistent."""
    readers: dict[str, FieldReader] = {key: read_str for key in _RPM_MAP_FIELDS}
    readers["epoch"] = read_uint64
    values = read_record(node, path, log, readers)
    if values is None:
        return
    missing = [key for key in _RPM_MAP_FIELDS if key not in values]
    for key in missing:
        log.add(path, node.location, f"the rpm-map entry has no {key!r}")
    if missing or any(value is None for value in values.values()):
        return
    expected = "{name}-{epoch}:{version}-{release}.{arch}".format(**values)
    if values["nevra"] != expected:
        log.add(
            child_path(path, "nevra"),
            node.location,
            f"nevra {values['nevra']!r} does not match the entry's fields"
            f" ({expected!r})",
        )


def _read_rpm_map(node: YamlNode, path: str, log: ProblemLog) -> None:
    """Read ``artifacts.rpm-map``: digest -> checksum -> entry."""
    digests = expect_mapping(node, path, log)
    for digest, checksums in digests.entries if digests else ():
        map_of(_read_rpm_map_entry)(checksums, child_path(path, digest.value), log)


def artifacts_reader(mdversion: int) -> FieldReader:
    """Make the ``data.artifacts`` reader for a stream version.

    v1 has only ``rpms``; v2 adds ``rpm-map``.

    :return: a reader giving the artifact NEVRAs (or None when invalid).
    """
    readers: dict[str, FieldReader] = {"rpms": _read_artifact_rpms}
    if mdversion >= 2:
        readers["rpm-map"] = _read_rpm_map

    def read(node: YamlNode, path: str, log: ProblemLog) -> tuple[str, ...] | None:
        """Read the artifacts section, giving its NEVRAs."""
        values = read_record(node, path, log, readers)
        return None if values is None else values.get("rpms")

    return read


#: Reads ``data.servicelevels``: name -> ``{eol: YYYY-MM-DD}``.
read_servicelevels: FieldReader = map_of(record_of({"eol": read_date}))
