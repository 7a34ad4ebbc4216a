"""modulemd layer of ridad: parse and validate modulemd YAML into domain values.

Pure: imports only ``ridad.domain``, ``ridad.errors``, PyYAML and the
standard library. The entry point is ``ridad.modulemd.parse.load_modulemd``;
libmodulemd's verdicts are the reference (``docs/modulemd.md``).
"""

__all__ = [
    "artifacts",
    "collector",
    "components",
    "dependencies",
    "envelope",
    "parse",
    "problems",
    "scalars",
    "stream",
    "yamltree",
]
