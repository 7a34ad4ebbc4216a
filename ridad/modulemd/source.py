"""Read a submitted modulemd document whole, as the stream v2 it becomes.

``load_modulemd`` keeps only what ridad builds from; the final modulemd
keeps everything the packager wrote (profiles, api, references, service
levels, ...). This reads the same validated text again through the same
readers and gives every field as a ``StreamV2``. A v1 document is upgraded
as libmodulemd upgrades it: its one ``dependencies`` mapping becomes one
item and its ``eol`` the end of life of the service level ``rawhide``.
A packager v2 document is read as the stream v2 it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ridad.errors import Unprocessable
from ridad.modulemd.components import Components
from ridad.modulemd.emit import Profile, StreamV2
from ridad.modulemd.envelope import read_envelope
from ridad.modulemd.parse import load_modulemd
from ridad.modulemd.problems import ProblemLog
from ridad.modulemd.scalars import read_record
from ridad.modulemd.stream import data_readers
from ridad.modulemd.yamltree import read_yaml_stream


def _values(text: str) -> dict[str, Any]:
    """The typed values of the ``data`` section of a valid document.

    :raises Unprocessable: when the text is not a valid document.
    """
    load_modulemd(text)
    log = ProblemLog()
    documents = read_yaml_stream(text, log=log).documents
    envelope = read_envelope(documents[0].root, log)
    readers, refused = data_readers(envelope.document, envelope.mdversion)
    values = read_record(envelope.data, "data", log, readers, refused)
    if log or values is None:  # pragma: no cover - load_modulemd said valid
        raise Unprocessable("the modulemd could not be read again")
    return values


def _servicelevels(values: Mapping[str, Any]) -> dict[str, Any]:
    """Service levels by name, with v1's ``eol`` as ``rawhide``."""
    levels = {
        name: (level or {}).get("eol")
        for name, level in (values.get("servicelevels") or {}).items()
    }
    if values.get("eol") is not None:
        levels["rawhide"] = values["eol"]
    return levels


def _profiles(values: Mapping[str, Any]) -> dict[str, Profile]:
    """Profiles by name."""
    return {
        name: Profile(
            description=(profile or {}).get("description"),
            rpms=(profile or {}).get("rpms") or (),
            default=bool((profile or {}).get("default")),
        )
        for name, profile in (values.get("profiles") or {}).items()
    }


def _rpm_names(values: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The ``rpms`` list of ``api``, ``filter`` or ``demodularized``."""
    return tuple((values.get(key) or {}).get("rpms") or ())


def read_source(text: str) -> StreamV2:
    """Read a valid modulemd stream v1/v2 or packager v2 document whole.

    ``name``, ``stream`` and ``context`` are empty strings and ``version``
    is 0 where the document leaves them unset. Artifacts (``rpms`` and
    ``rpm-map``) are not read: they describe a build, not the source.

    :return: the document's fields.
    :raises Unprocessable: when ``load_modulemd`` refuses the text.
    """
    values = _values(text)
    licenses = values.get("license") or {}
    components = values.get("components") or Components()
    return StreamV2(
        name=values.get("name") or "",
        stream=values.get("stream") or "",
        version=values.get("version") or 0,
        context=values.get("context") or "",
        summary=values["summary"],
        description=values["description"],
        module_licenses=tuple(licenses.get("module") or ()),
        static_context=bool(values.get("static_context")),
        arch=values.get("arch"),
        servicelevels=_servicelevels(values),
        content_licenses=tuple(licenses.get("content") or ()),
        xmd=values.get("xmd"),
        dependencies=tuple(values.get("dependencies") or ()),
        references={
            key: value
            for key, value in (values.get("references") or {}).items()
            if value is not None
        },
        profiles=_profiles(values),
        api=_rpm_names(values, "api"),
        filters=_rpm_names(values, "filter"),
        demodularized=_rpm_names(values, "demodularized"),
        buildopts=values.get("buildopts"),
        rpm_components=components.rpms,
        module_components=components.modules,
    )
