"""The ``webhooks`` section of ``ridad.yaml``: build on push.

One entry per forge ridad accepts push deliveries from (``POST
/rida/webhooks/<forge>``), with the secret its deliveries are signed (or, for
GitLab, authenticated) with, the branches whose pushes build, and who owns
the builds: the pusher's ridad user (``identities``), else the
``service_owner``. ``branches`` and ``service_owner`` at the section's level
apply to every forge that does not set its own. Read at each delivery, so
SIGHUP changes them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ridad.config.builds import check_patterns
from ridad.config.reader import Reader, check_string, check_string_map

#: The forges whose push deliveries ridad reads (the ``<forge>`` of the URL).
FORGES = ("pagure", "gitlab", "github", "forgejo", "gitea")
FORGE_KEYS = {"secret", "branches", "identities", "service_owner"}
#: Pagure's payload names no clone URL: ``git_url`` is the base of it.
EXTRA_KEYS = {"pagure": {"git_url"}}
SHARED_KEYS = {"branches", "service_owner"}
#: The longest owner name (as ``ridad.api.auth.MAX_USER_LENGTH``).
MAX_OWNER_LENGTH = 255


@dataclass(frozen=True)
class ForgeHook:
    """One forge's push deliveries: how they are authenticated, which
    branches build and who owns the builds."""

    #: The webhook secret (GitLab: the secret token).
    secret: str = field(repr=False)
    #: Regular expressions a pushed branch must match as a whole.
    branches: tuple[str, ...] = ()
    #: Forge user name -> the ridad user who owns the builds of their pushes.
    identities: tuple[tuple[str, str], ...] = ()
    #: The owner of pushes by users missing from ``identities`` (None:
    #: such pushes are refused).
    service_owner: str | None = None
    #: Pagure only: the base of clone URLs (Pagure's ``GIT_URL_GIT``); None:
    #: the instance's own URL (``pagure_instance`` in the payload).
    git_url: str | None = None

    def builds_branch(self, branch: str) -> bool:
        """Whether a push to ``branch`` builds (a pattern matches it whole)."""
        return any(re.fullmatch(pattern, branch) for pattern in self.branches)

    def owner_of(self, user: str | None) -> str | None:
        """The ridad owner of a push by forge user ``user``, or None."""
        mapped = dict(self.identities).get(user) if user else None
        return mapped or self.service_owner


@dataclass(frozen=True)
class WebhooksConfig:
    """``webhooks``: the forges that may trigger builds by pushing."""

    forges: tuple[tuple[str, ForgeHook], ...] = ()

    def forge(self, name: str) -> ForgeHook | None:
        """The configuration of forge ``name``; None when it has none."""
        return dict(self.forges).get(name)


def check_owner(value: Any) -> str | None:
    """A problem unless ``value`` can own builds: clean text, not one of
    ridad's own names (in angle brackets)."""
    if check_string(value) is not None:
        return "must be a non-empty string"
    if len(value) > MAX_OWNER_LENGTH:
        return f"must be at most {MAX_OWNER_LENGTH} characters"
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        return "must not contain control characters"
    if value.startswith("<") and value.endswith(">"):
        return "names in angle brackets are ridad's own"
    return None


def check_identities(value: Any) -> str | None:
    """Forge user names mapped to owners."""
    problem = check_string_map(value)
    if problem:
        return "must map forge user names to ridad user names"
    for user, owner in value.items():
        problem = check_owner(owner)
        if problem:
            return f"{user}: {problem}"
    return None


def parse_webhooks(reader: Reader, data: Any) -> WebhooksConfig:
    """The ``webhooks`` section: a forge per key, and the defaults."""
    section = reader.section(data, "webhooks", {*FORGES, *SHARED_KEYS})
    branches = reader.value(section, "webhooks.", "branches", [], check_patterns)
    owner = reader.value(section, "webhooks.", "service_owner", None, check_owner)
    forges = tuple(
        (name, _forge(reader, name, section[name], tuple(branches), owner))
        for name in FORGES
        if name in section
    )
    if isinstance(data, dict) and not forges:
        reader.problems.append(
            "webhooks: name at least one forge (" + ", ".join(FORGES) + ")"
        )
    return WebhooksConfig(forges=forges)


def _forge(
    reader: Reader,
    name: str,
    data: Any,
    branches: tuple[str, ...],
    owner: str | None,
) -> ForgeHook:
    """One forge's entry, the section's defaults filled in."""
    p = f"webhooks.{name}."
    section = reader.section(data, p[:-1], FORGE_KEYS | EXTRA_KEYS.get(name, set()))
    if "secret" not in section:
        reader.problems.append(
            f"{p}secret: required (the secret the forge's deliveries carry)"
        )
    own = tuple(reader.value(section, p, "branches", list(branches), check_patterns))
    if not own:
        reader.problems.append(
            f"{p}branches: no push would build; list the branches (regular"
            " expressions, matched whole) here or in webhooks.branches"
        )
    git_url = reader.value(section, p, "git_url", None, check_string)
    return ForgeHook(
        secret=reader.value(section, p, "secret", "", check_string),
        branches=own,
        identities=tuple(
            sorted(reader.value(section, p, "identities", {}, check_identities).items())
        ),
        service_owner=reader.value(section, p, "service_owner", owner, check_owner),
        git_url=git_url.rstrip("/") + "/" if git_url else None,
    )
