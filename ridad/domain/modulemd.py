"""Values parsed out of a modulemd document (what ``ridad.modulemd`` returns).

Frozen, no I/O. Every scalar is kept as the string the YAML held (``stream:
1.10`` stays ``"1.10"``), except the fields typed below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Dependencies:
    """One item of v2 ``dependencies`` (v1's single mapping becomes one item).

    Each maps a module name to its stream list exactly as written, including
    negated (``-f27``) entries and empty lists; v1's single stream ``s``
    becomes ``("s",)``.
    """

    buildrequires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RpmComponentSpec:
    """One entry of ``components.rpms``; ``key`` is the SCM name."""

    key: str
    name: str | None = None
    rationale: str | None = None
    repository: str | None = None
    cache: str | None = None
    ref: str | None = None
    buildorder: int = 0
    buildafter: tuple[str, ...] = ()
    buildonly: bool = False
    buildroot: bool = False
    srpm_buildroot: bool = False
    arches: tuple[str, ...] = ()
    multilib: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleComponentSpec:
    """One entry of ``components.modules`` (an included module)."""

    key: str
    rationale: str | None = None
    repository: str | None = None
    ref: str | None = None
    buildorder: int = 0


@dataclass(frozen=True)
class ModuleStreamDocument:
    """A validated modulemd stream v1/v2 or packager v2 document.

    ``document`` is ``"modulemd"`` or ``"modulemd-packager"`` and
    ``mdversion`` its metadata version. ``version`` is None when the
    document leaves it unset (absent or 0). ``text`` is the YAML as received.
    """

    document: str
    mdversion: int
    text: str
    summary: str
    description: str
    module_licenses: tuple[str, ...]
    name: str | None = None
    stream: str | None = None
    version: int | None = None
    context: str | None = None
    static_context: bool = False
    dependencies: tuple[Dependencies, ...] = ()
    rpm_components: tuple[RpmComponentSpec, ...] = ()
    module_components: tuple[ModuleComponentSpec, ...] = ()
    rpm_macros: str | None = None
    rpm_whitelist: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()
    xmd: Any = None
