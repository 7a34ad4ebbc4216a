"""modulemd layer of ridad: modulemd YAML into domain values, and the final modulemd.

Pure: imports only ``ridad.domain``, ``ridad.errors``, PyYAML and the
standard library. The entry points are ``ridad.modulemd.parse.load_modulemd`` and
``ridad.modulemd.final.final_modulemd`` (the documents of a built module);
libmodulemd's verdicts and output are the reference (``docs/modulemd.md``).
"""

__all__ = [
    "artifacts",
    "collector",
    "components",
    "dependencies",
    "emit",
    "envelope",
    "events",
    "final",
    "mbs_xmd",
    "parse",
    "problems",
    "scalars",
    "source",
    "stream",
    "yamltree",
]
