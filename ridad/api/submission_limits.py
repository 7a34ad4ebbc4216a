"""What bounds the work one submission can cause.

``check_component_count`` refuses a modulemd with more than
``api.max_components`` components before any of them is checked in git, and
``submission_requester`` says for whom that git work is done: the owner (the
key of the fair git slot queues) with a budget of ``scm.max_fetch_bytes``
for everything the submission fetches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ridad.api.scm_identity import MAX_IDENTIFIER_LENGTH
from ridad.config.model import Config
from ridad.domain.modulemd import ModuleStreamDocument, RpmComponentSpec
from ridad.domain.overrides import Overrides, parse_overrides
from ridad.errors import Unprocessable
from ridad.scm.git import FetchBudget, Requester

__all__ = ["check_component_count", "submission_requester"]


def check_component_count(config: Config, document: ModuleStreamDocument) -> None:
    """Refuse a modulemd listing more than ``api.max_components`` components
    (rpms and modules together).

    :raises Unprocessable: it lists more.
    """
    count = len(document.rpm_components) + len(document.module_components)
    limit = config.api.max_components
    if count > limit:
        raise Unprocessable(
            f"the modulemd lists {count} components; at most {limit} are"
            " allowed (api.max_components): split the module",
            details={"component_count": count, "max_components": limit},
        )


def submission_requester(config: Config, owner: str) -> Requester:
    """The requester of one submission's git work.

    :returns: ``owner``'s requester, with a fresh ``scm.max_fetch_bytes``
        budget.
    """
    return Requester(submitter=owner, budget=FetchBudget(config.scm.max_fetch_bytes))


def submission_overrides(body: Mapping[str, Any]) -> dict[str, Overrides]:
    """The two override parameters of a submission body (MBS's names),
    as ``Submission`` keywords.

    :raises InvalidRequest: one is not an object of stream arrays (MBS's
        message).
    """
    return {
        key: parse_overrides(key, body.get(key))
        for key in ("buildrequire_overrides", "require_overrides")
    }


def check_component_names(components: Sequence[RpmComponentSpec]) -> None:
    """:raises Unprocessable: a component name is too long for the index."""
    long = [c.key for c in components if len(c.key) > MAX_IDENTIFIER_LENGTH]
    if long:
        raise Unprocessable(
            f"components.rpms: {len(long)} component names are longer than"
            f" {MAX_IDENTIFIER_LENGTH} characters (the first starts with"
            f" {long[0][:40]!r})"
        )
