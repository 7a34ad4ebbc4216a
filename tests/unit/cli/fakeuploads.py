"""A stand-in for rida's SRPM uploader (``ridad.cli.koji_upload``): no
Koji, the paths it would answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ridad.cli.koji_upload import KojiTarget, Upload


@dataclass
class FakeUploads:
    """An SRPM uploader that records what it was asked and answers paths
    as koji's ``cli-build/<time>.<letters>/<name>`` (numbered here)."""

    calls: list[tuple[list[str], KojiTarget]] = field(default_factory=list)
    #: Raised instead of uploading, when set.
    error: Exception | None = None

    async def __call__(self, files: Any, target: KojiTarget) -> list[Upload]:
        self.calls.append((list(files), target))
        if self.error is not None:
            raise self.error
        return [
            Upload(file=f, path=f"cli-build/{n}.abcdefgh/{Path(f).name}")
            for n, f in enumerate(files, 1)
        ]
