"""What a content-generator import says about the host that made it, and
the random part of each attempt's upload directory."""

from __future__ import annotations

import platform
import secrets
import string

__all__ = ["directory_suffix", "host_info"]

_SUFFIX_LETTERS = string.ascii_letters


def host_info() -> dict[str, str]:
    """The host ridad runs on, for the import's buildroot (reads
    /etc/os-release: call it off the reactor thread)."""
    try:
        release = platform.freedesktop_os_release()
        system = f"{release.get('NAME', 'Linux')} {release.get('VERSION_ID', '')}"
    except OSError:
        system = f"{platform.system()} {platform.release()}"
    return {"os": system.strip(), "arch": platform.machine() or "noarch"}


def directory_suffix() -> str:
    """Eight random letters for the upload directory of one attempt."""
    return "".join(secrets.choice(_SUFFIX_LETTERS) for _ in range(8))
