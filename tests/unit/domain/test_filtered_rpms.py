"""MBS's ``record_filtered_rpms``: which buildrequired modules are looked up
in Koji, and the NVRs recorded as their ``filtered_rpms``."""

from __future__ import annotations

from ridad.domain.buildroot import (
    conflicts_text,
    filtered_lookups,
    rpm_filter,
    with_filtered_rpms,
)

FILTERING = """document: modulemd
version: 2
data:
  name: python
  stream: "3.12"
  filter:
    rpms: [python3-devel, python3-tkinter]
"""
PLAIN = FILTERING.replace("  filter:\n    rpms: [python3-devel, python3-tkinter]\n", "")
BUILDREQUIRES = {
    "platform": {"stream": "f40", "koji_tag": "f40-build", "base_module": True},
    "python": {"stream": "3.12", "koji_tag": "module-python-3.12-1-aa"},
    "nodejs": {"stream": "20", "koji_tag": "module-nodejs-20-1-bb"},
    "ruby": {"stream": "3.3"},
}


def test_the_filter_of_a_modulemd_is_read() -> None:
    assert rpm_filter(FILTERING) == ("python3-devel", "python3-tkinter")
    assert rpm_filter(PLAIN) == ()
    assert rpm_filter("") == ()


def test_only_non_base_modules_with_a_tag_and_a_filter_are_looked_up() -> None:
    """Base modules, modules that filter nothing and modules without a tag
    record ``[]`` without asking Koji, as MBS does."""
    modulemds = {"python": FILTERING, "nodejs": PLAIN, "ruby": FILTERING}
    assert filtered_lookups(BUILDREQUIRES, modulemds) == {
        "python": (
            "module-python-3.12-1-aa",
            ("python3-devel", "python3-tkinter"),
        )
    }


def test_the_filtered_nvrs_are_those_of_the_filtered_names() -> None:
    """Of the tag's RPMs, those whose name is filtered; the rest of each
    entry is kept; the Conflicts of module-build-macros follow."""
    lookups = filtered_lookups(BUILDREQUIRES, {"python": FILTERING})
    tagged = {
        "python": [
            "python3-0:3.12.1-1.module+f40+1+aaaaaaaa",
            "python3-devel-0:3.12.1-1.module+f40+1+aaaaaaaa",
            "python3-tkinter-1:3.12.1-1.module+f40+1+aaaaaaaa",
        ]
    }
    recorded = with_filtered_rpms(BUILDREQUIRES, lookups, tagged)
    assert recorded["python"] == {
        **BUILDREQUIRES["python"],
        "filtered_rpms": [
            "python3-devel-0:3.12.1-1.module+f40+1+aaaaaaaa",
            "python3-tkinter-1:3.12.1-1.module+f40+1+aaaaaaaa",
        ],
    }
    assert recorded["platform"]["filtered_rpms"] == []
    assert recorded["nodejs"] == {**BUILDREQUIRES["nodejs"], "filtered_rpms": []}
    assert conflicts_text(recorded).splitlines() == [
        "# Filtered rpms from python module:",
        "Conflicts: python3-devel = 0:3.12.1-1.module+f40+1+aaaaaaaa",
        "Conflicts: python3-tkinter = 1:3.12.1-1.module+f40+1+aaaaaaaa",
    ]
