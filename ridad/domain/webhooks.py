"""Build on push: a forge's push as a value, and what recording its builds
came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Push:
    """A push that may build: the commit now at the head of a branch, as a
    forge's delivery announced it."""

    #: The forge's name in ``webhooks`` (and in ``/rida/webhooks/<forge>``).
    forge: str
    #: The forge's id of the delivery (a retry or redelivery may repeat it).
    delivery_id: str
    clone_url: str
    branch: str
    commit: str
    #: The forge user who pushed (None when the payload names nobody).
    pusher: str | None

    @property
    def scmurl(self) -> str:
        """The submission's scmurl: the clone URL at the pushed commit."""
        return f"{self.clone_url}?#{self.commit}"


@dataclass(frozen=True)
class PushRecord:
    """The builds of a push delivery as recorded."""

    #: Each build's id and whether this delivery created or started it over
    #: (False: a sibling that existed and was kept, or, for a duplicate, any).
    builds: tuple[tuple[int, bool], ...]
    #: The delivery was recorded before: nothing was built this time.
    duplicate: bool = False

    @property
    def ids(self) -> list[int]:
        """The ids of the builds, in the order of the expansion."""
        return [module_build_id for module_build_id, _ in self.builds]
