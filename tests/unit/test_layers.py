"""The layer rules of STYLE.md section 1, enforced on the source tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ridad"

# layer -> the ridad layers it may import
ALLOWED: dict[str, set[str]] = {
    "domain": {"errors"},
    "errors": set(),
    # Runs child processes with limits; like errors, any layer may use it.
    "process": {"errors"},
    "modulemd": {"domain", "errors"},
    "config": {"domain", "errors"},
    "logs": set(),
    "db": {"domain", "modulemd", "errors"},
    "scm": {"domain", "modulemd", "errors"},
    "koji": {"domain", "modulemd", "errors", "tlspolicy"},
    "bus": {"domain", "modulemd", "errors"},
    "transitions": {"domain", "modulemd", "errors", "db", "bus"},
    "scheduler": {
        "domain",
        "modulemd",
        "errors",
        "config",
        "transitions",
        "db",
        "scm",
        "koji",
        "bus",
    },
    "leader": {"domain", "errors", "db"},
    "outbox": {"domain", "errors", "db", "bus"},
    "api": {"domain", "modulemd", "errors", "config", "transitions", "db", "scm"},
    "kojisim": {"errors", "bus"},
    "cli": {"domain", "errors", "tlspolicy"},
    # The TLS client policy that cli and koji share.
    "tlspolicy": {"errors"},
    "service": {"domain", "errors", "config", "db", "scheduler", "api", "bus"},
    "tap": {
        "domain",
        "modulemd",
        "errors",
        "config",
        "db",
        "scm",
        "koji",
        "bus",
        "transitions",
        "scheduler",
        "api",
        "service",
        "logs",
        "composition",
    },
    "devenv": {"errors", "domain", "koji", "bus"},
    "composition": {
        "domain",
        "modulemd",
        "errors",
        "config",
        "db",
        "scm",
        "koji",
        "bus",
        "transitions",
        "scheduler",
        "leader",
        "outbox",
    },
    "__init__": set(),
}
NEVER_IMPORTED = {"tap", "kojisim", "cli", "devenv"}
BLOCKING = re.compile(
    r"^\s*(import requests|from requests|import subprocess|from subprocess)"
    r"|time\.sleep\(|urllib\.request",
    re.MULTILINE,
)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _ridad_imports(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ridad."):
                    found.append((alias.name.split(".")[1], node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ridad":
                found.extend((alias.name, node.lineno) for alias in node.names)
            elif node.module.startswith("ridad."):
                found.append((node.module.split(".")[1], node.lineno))
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_allowed_layers(path: Path) -> None:
    """Each module imports only the ridad layers its layer may use."""
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer} is not a known layer"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for imported, line in _ridad_imports(tree):
        if imported in ("__version__", layer, "process"):
            continue
        assert imported not in NEVER_IMPORTED, f"{path}:{line} imports {imported}"
        assert imported in ALLOWED[layer], f"{path}:{line}: {layer} imports {imported}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_relative_or_star_imports(path: Path) -> None:
    """No module uses relative imports or ``import *``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno} relative import"
            assert all(a.name != "*" for a in node.names), f"{path}:{node.lineno}"


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if p.name == "__init__.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_package_init_holds_only_docstring_and_all(path: Path) -> None:
    """An ``__init__.py`` holds only a docstring and ``__all__``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        body = body[1:]
    for node in body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        allowed = {"__all__", "__version__"} if path.parent == PACKAGE else {"__all__"}
        assert targets and set(targets) <= allowed, f"{path}:{node.lineno}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_blocks_the_reactor_thread(path: Path) -> None:
    """No module uses subprocess, requests, urllib.request or time.sleep."""
    match = BLOCKING.search(path.read_text(encoding="utf-8"))
    assert match is None, f"{path}: {match.group(0) if match else ''}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_global_reactor_only_in_composition_roots(path: Path) -> None:
    """Only ``ridad/tap.py`` and ``ridad/kojisim/tap.py`` import the global reactor."""
    relative = str(path.relative_to(ROOT))
    if relative in ("ridad/tap.py", "ridad/kojisim/tap.py"):
        return
    assert "from twisted.internet import reactor" not in path.read_text(
        encoding="utf-8"
    ), relative
