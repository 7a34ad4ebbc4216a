"""The layer rules of ridad (docs/architecture.md), enforced on the source tree.

Every module of ``ridad/`` belongs to the layer named by its first path part
under ``ridad/`` (``ridad/db/pool.py`` is ``db``, ``ridad/tap.py`` is
``tap``). A layer may import its own modules, ``ridad.__version__``, and the
layers of its row below; nothing else of ridad. Imports are read from the
AST: ``import ridad.x.y``, ``from ridad.x import y``, ``from ridad import x``,
also inside functions and ``if TYPE_CHECKING:`` blocks.

=============  ================================================================
layer          may import
=============  ================================================================
errors         (nothing)
logs           (nothing)
metrics        (nothing)
domain         errors
process        errors
tlspolicy      errors
modulemd       domain, errors
config         domain, errors
db             domain, modulemd, errors, process, metrics
scm            domain, modulemd, errors, process, metrics
koji           domain, modulemd, errors, tlspolicy, metrics
bus            domain, modulemd, errors
gating         domain, errors
transitions    domain, modulemd, errors, db, bus, outbox, metrics,
               transitions_life, transitions_cg
transitions_life  domain, modulemd, errors, db, bus
transitions_cg    domain, modulemd, errors, db
transitions_reuse domain, modulemd, errors, db
leader         domain, errors, db, metrics
outbox         domain, errors, db, bus
scheduler      domain, modulemd, errors, config, process, transitions, db,
               scm, koji, bus, gating, metrics
api            domain, modulemd, errors, config, transitions, db, scm, metrics
web            domain, modulemd, errors, config, db, api
service        domain, errors, config, db
composition    domain, modulemd, errors, config, db, scm, koji, bus, gating,
               transitions, leader, outbox, scheduler, api, web, service,
               metrics
tap            errors, config, composition, service
kojisim        errors, process, bus
devenv         domain, errors, koji, bus
cli            domain, errors, tlspolicy
=============  ================================================================

Nothing imports ``tap``, ``kojisim``, ``cli`` or ``devenv``. Further rules:
no relative imports and no ``import *``; an ``__init__.py`` holds only a
docstring and ``__all__``; nothing blocks the reactor thread (no import of
``subprocess``, ``requests`` or ``urllib.request``, no ``time.sleep``);
``xmlrpc`` (``xmlrpc``, ``xmlrpc.client``, ``twisted.web.xmlrpc``) is
imported only in ``koji`` and ``kojisim``; and only ``ridad/tap.py`` and
``ridad/kojisim/tap.py`` import the global reactor.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ridad"

_CORE = {"domain", "modulemd", "errors"}

#: layer -> the ridad layers it may import (the table of the docstring).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "logs": set(),
    # Instruments only (prometheus_client); the layers that measure import it.
    "metrics": set(),
    "domain": {"errors"},
    "process": {"errors"},
    "tlspolicy": {"errors"},
    "modulemd": {"domain", "errors"},
    "config": {"domain", "errors"},
    "db": _CORE | {"process", "metrics"},
    "scm": _CORE | {"process", "metrics"},
    "koji": _CORE | {"tlspolicy", "metrics"},
    "bus": set(_CORE),
    "gating": {"domain", "errors"},
    "transitions": _CORE
    | {
        "db",
        "bus",
        "outbox",
        "metrics",
        "transitions_life",
        "transitions_cg",
        "transitions_import",
        "transitions_submit",
        "transitions_reuse",
    },
    # The intents of a build's life after it was built, mixed into
    # Transitions; nothing else may import them.
    "transitions_life": _CORE | {"db", "bus"},
    # The intents of the module's import into Koji, mixed in the same way.
    "transitions_cg": _CORE | {"db"},
    "transitions_import": _CORE | {"db"},
    "transitions_submit": _CORE | {"db"},
    # The intents of component reuse, mixed in the same way.
    "transitions_reuse": _CORE | {"db"},
    "leader": {"domain", "errors", "db", "metrics"},
    "outbox": {"domain", "errors", "db", "bus"},
    "scheduler": _CORE
    | {
        "config",
        "process",
        "transitions",
        "db",
        "scm",
        "koji",
        "bus",
        "gating",
        "metrics",
    },
    "api": _CORE | {"config", "transitions", "db", "scm", "metrics"},
    # The status page: HTML of what the stores read. It reuses the API's
    # query parsing and error statuses.
    "web": _CORE | {"config", "db", "api"},
    "service": {"domain", "errors", "config", "db"},
    # The leader's half of the composition root (only composition imports it).
    "composition_leader": _CORE
    | {
        "config",
        "db",
        "koji",
        "bus",
        "gating",
        "transitions",
        "leader",
        "outbox",
        "scheduler",
        "metrics",
    },
    "composition": _CORE
    | {
        "composition_leader",
        "config",
        "db",
        "scm",
        "koji",
        "bus",
        "gating",
        "transitions",
        "leader",
        "outbox",
        "scheduler",
        "api",
        "web",
        "service",
        "metrics",
    },
    "tap": {"errors", "config", "composition", "service"},
    "kojisim": {"errors", "process", "bus"},
    "devenv": {"domain", "errors", "koji", "bus"},
    "cli": {"domain", "errors", "tlspolicy"},
    "__init__": set(),
}
NEVER_IMPORTED = {"tap", "kojisim", "cli", "devenv"}
XMLRPC_LAYERS = {"koji", "kojisim"}
REACTOR_ROOTS = {"ridad/tap.py", "ridad/kojisim/tap.py"}
BLOCKING_MODULES = {"subprocess", "requests", "urllib.request"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every module an import names, with its line, wherever the import is.

    ``import a.b`` names ``a.b``; ``from a import b`` names ``a`` and
    ``a.b`` (``b`` may be a module or a name in ``a``).
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def ridad_layers(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """The ridad layers a module imports, with the line of each import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ridad."):
                    yield alias.name.split(".")[1], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ridad":
                yield from ((a.name, node.lineno) for a in node.names)
            elif node.module.startswith("ridad."):
                yield node.module.split(".")[1], node.lineno


def test_every_layer_of_the_table_exists_and_every_package_is_a_layer() -> None:
    """The table names exactly the layers found under ``ridad/``."""
    found = {_layer(path) for path in _modules()}
    assert found == set(ALLOWED)
    for layer, allowed in ALLOWED.items():
        assert allowed <= set(ALLOWED) - NEVER_IMPORTED, layer
        assert layer not in allowed, layer


def test_import_reader_sees_every_form_of_import() -> None:
    """``import a.b``, ``from a import b``, ``from ridad import x`` and imports in
    functions are all read."""
    tree = ast.parse(
        "import ridad.db.pool\n"
        "from ridad.bus import framing\n"
        "from ridad import scheduler\n"
        "def f():\n"
        "    import xmlrpc.client\n"
        "    from xmlrpc import client\n"
    )
    assert sorted(ridad_layers(tree)) == [("bus", 2), ("db", 1), ("scheduler", 3)]
    modules = {name for name, _ in imported_modules(tree)}
    assert {"xmlrpc.client", "xmlrpc", "ridad.db.pool"} <= modules


@pytest.mark.parametrize("path", _modules(), ids=_id)
def test_module_imports_only_allowed_layers(path: Path) -> None:
    """Each module imports only the ridad layers its layer may use."""
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer} is not a known layer"
    for imported, line in ridad_layers(_tree(path)):
        if imported in ("__version__", layer):
            continue
        assert imported not in NEVER_IMPORTED, f"{path}:{line} imports {imported}"
        assert imported in ALLOWED[layer], f"{path}:{line}: {layer} imports {imported}"


@pytest.mark.parametrize("path", _modules(), ids=_id)
def test_no_relative_or_star_imports(path: Path) -> None:
    """No module uses relative imports or ``import *``."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno} relative import"
            assert all(a.name != "*" for a in node.names), f"{path}:{node.lineno}"


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if p.name == "__init__.py"],
    ids=_id,
)
def test_package_init_holds_only_docstring_and_all(path: Path) -> None:
    """An ``__init__.py`` holds only a docstring and ``__all__``."""
    body = _tree(path).body
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


def _sleep_calls(tree: ast.AST) -> Iterator[int]:
    """Lines that call ``time.sleep`` or import ``sleep`` from ``time``."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "sleep"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "time"
        ):
            yield node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            if any(alias.name == "sleep" for alias in node.names):
                yield node.lineno


@pytest.mark.parametrize("path", _modules(), ids=_id)
def test_nothing_blocks_the_reactor_thread(path: Path) -> None:
    """No module imports subprocess, requests or urllib.request, or sleeps."""
    tree = _tree(path)
    for name, line in imported_modules(tree):
        assert name not in BLOCKING_MODULES, f"{path}:{line} imports {name}"
    assert list(_sleep_calls(tree)) == [], f"{path} calls time.sleep"


def _xmlrpc_cases() -> list[object]:
    return [
        pytest.param(path, id=_id(path))
        for path in _modules()
        if _layer(path) not in XMLRPC_LAYERS
    ]


@pytest.mark.parametrize("path", _xmlrpc_cases())
def test_xmlrpc_only_in_koji_and_kojisim(path: Path) -> None:
    """Only ``ridad/koji/`` and ``ridad/kojisim/`` import ``xmlrpc``."""
    for name, line in imported_modules(_tree(path)):
        parts = name.split(".")
        assert "xmlrpc" not in parts, f"{path}:{line} imports {name}"


def _imports_global_reactor(tree: ast.AST) -> bool:
    for name, _ in imported_modules(tree):
        if name == "twisted.internet.reactor":
            return True
    return False


@pytest.mark.parametrize("path", _modules(), ids=_id)
def test_global_reactor_only_in_composition_roots(path: Path) -> None:
    """Only ``ridad/tap.py`` and ``ridad/kojisim/tap.py`` import the global reactor."""
    if _id(path) in REACTOR_ROOTS:
        return
    assert not _imports_global_reactor(_tree(path)), _id(path)
