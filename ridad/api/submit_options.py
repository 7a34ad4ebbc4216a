"""The fields of a submission beyond its SCM location, as both APIs accept
them (MBS's names): ``scratch``, ``rebuild_strategy``,
``reuse_components_from``, a modulemd in the body (``modulemd`` with
``module_name`` and ``module_stream``) and a scratch build's ``srpms``; and
ridad's ``dry_run`` (check everything, record nothing).

Only their form is checked here; what the configuration allows, and what
they name, the submission checks (``ridad.api.submission``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ridad.api.inputs import BIGINT_MAX, shown, text_problem, whole_number
from ridad.api.mbs_params import Problems

#: The option fields, as a submission body may carry them.
OPTION_FIELDS = (
    "scratch",
    "rebuild_strategy",
    "reuse_components_from",
    "modulemd",
    "module_name",
    "module_stream",
    "srpms",
    "dry_run",
)
#: The most SRPMs one scratch build may name.
MAX_SRPMS = 1000
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


@dataclass(frozen=True)
class SubmitOptions:
    """A submission's options; the defaults are a plain SCM submission."""

    scratch: bool = False
    #: None: the server's ``builds.rebuild_strategy_default``.
    rebuild_strategy: str | None = None
    #: A module build id or an NSVC (``name:stream:version:context``).
    reuse_components_from: int | str | None = None
    #: The modulemd text itself, instead of fetching it from ``scmurl``.
    modulemd: str | None = None
    module_name: str | None = None
    module_stream: str | None = None
    #: Koji upload paths (``cli-build/.../<package>.src.rpm``).
    srpms: tuple[str, ...] = ()
    #: Check everything a submission checks, record nothing.
    dry_run: bool = False


def parse_options(body: Mapping[str, Any], problems: Problems) -> SubmitOptions:
    """Read the option fields of ``body``, adding what is wrong to ``problems``.

    Values may be JSON values or, from a multipart form, strings: a
    ``scratch`` of ``"true"``, a ``reuse_components_from`` of ``"12"``.
    """
    texts: dict[str, str | None] = {}
    for key in ("rebuild_strategy", "modulemd", "module_name", "module_stream"):
        texts[key] = _text(body, key, problems)
    for key, what in (("module_name", "Module name"), ("module_stream", "Stream name")):
        if texts[key] is not None and "modulemd" not in body:
            problems.add(
                key, f"{what} override is only allowed when a YAML file is submitted"
            )
    return SubmitOptions(
        scratch=_flag(body, "scratch", problems),
        rebuild_strategy=texts["rebuild_strategy"],
        reuse_components_from=_build_reference(body, problems),
        modulemd=texts["modulemd"],
        module_name=texts["module_name"],
        module_stream=texts["module_stream"],
        srpms=_srpms(body, problems),
        dry_run=_strict_flag(body, "dry_run", problems),
    )


def _text(body: Mapping[str, Any], key: str, problems: Problems) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(key, "must be a string")
        return None
    problem = text_problem(value)
    if problem:
        problems.add(key, problem)
        return None
    return value


def _flag(body: Mapping[str, Any], key: str, problems: Problems) -> bool:
    value = body.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    if value is None:
        return False
    problems.add(key, "must be a boolean")
    return False


def _strict_flag(body: Mapping[str, Any], key: str, problems: Problems) -> bool:
    """A flag that is a boolean, or from a form one of the words of
    ``_flag``; null or an empty string is refused, not read as false: a
    client that means a dry run never gets a real build by mistake."""
    if key not in body:
        return False
    value = body[key]
    if isinstance(value, str) and value.strip():
        return _flag(body, key, problems)
    if isinstance(value, bool):
        return value
    problems.add(key, "must be a boolean (true or false)")
    return False


def _build_reference(body: Mapping[str, Any], problems: Problems) -> int | str | None:
    key = "reuse_components_from"
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.add(key, "must be a module build id or an NSVC")
        return None
    if isinstance(value, int):
        if not 1 <= value <= BIGINT_MAX:
            problems.add(key, f"must be a module build id (1 to {BIGINT_MAX})")
            return None
        return value
    if text_problem(value):
        problems.add(key, text_problem(value) or "")
        return None
    if value.isascii() and value.isdigit():
        try:
            return whole_number(value, minimum=1, maximum=BIGINT_MAX)
        except ValueError as e:
            problems.add(key, str(e))
            return None
    parts = value.split(":")
    if len(parts) != 4 or not all(parts):
        problems.add(
            key,
            f"{shown(value)!r} is neither a module build id nor an NSVC"
            " (name:stream:version:context)",
        )
        return None
    return value


def _srpms(body: Mapping[str, Any], problems: Problems) -> tuple[str, ...]:
    value = body.get("srpms")
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_SRPMS:
        problems.add(
            "srpms", f"must be a list of at most {MAX_SRPMS} Koji upload paths"
        )
        return ()
    for item in value:
        if not isinstance(item, str) or text_problem(item):
            problems.add("srpms", "must be a list of Koji upload paths (strings)")
            return ()
    return tuple(value)
