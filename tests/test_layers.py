"""The package's layers: a module imports only from its own layer or lower ones.

foundation (issues, errors, runtime, native) < gosem < model < read < check < report < write <
testing < entry points (validate, inspect, cli, options, the package itself). Every import
counts, including those inside functions and the C extensions loaded by name through
``native_module("...")``; only the ``if TYPE_CHECKING:`` block is exempt (never run). A C
extension (``*.c`` under the package) belongs to its package's layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archivekit"

LAYERS = ("foundation", "gosem", "model", "read", "check", "report", "write", "testing", "entry")
FOUNDATION = {"archivekit.issues", "archivekit.errors", "archivekit.runtime", "archivekit.native"}
# Third-party packages only some modules may import (prefixes of module names).
ONLY_IN = {
    "click": ("archivekit.cli",),
    "pydantic": ("archivekit.model",),
    "hypothesis": ("archivekit.testing.fuzz",),
}


def layer(module: str) -> str:
    """The layer of an archivekit module name (a package's name is its own module)."""
    if module in FOUNDATION:
        return "foundation"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "entry"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# The C extensions, by module name: each ``*.c`` under the package builds the module of its
# path (``check/fast/_scan.c`` is ``archivekit.check.fast._scan``).
C_EXTENSIONS = frozenset(module_name(path) for path in PACKAGE.rglob("*.c"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _native_name(node: ast.Call) -> str | None:
    """The module name of a ``native_module("archivekit...")`` call (a C extension loaded by
    name), else None."""
    func = node.func
    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if called != "native_module" or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports(path: Path, package: str = "") -> list[tuple[int, str]]:
    """(line, imported module) for every import statement that can run and every C extension
    loaded through ``native_module``; `package` resolves relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[int, str]] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            # `from archivekit.check import engine` imports a module too.
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call):
            native = _native_name(node)
            if native is not None:
                found.append((node.lineno, native))
        pending.extend(ast.iter_child_nodes(node))
    return found


def _archivekit_module(name: str) -> str | None:
    """`name` if it is a module of the package (not a name inside a module)."""
    if name != "archivekit" and not name.startswith("archivekit."):
        return None
    relative = Path(*name.split("."))
    base = PACKAGE.parent / relative
    if base.with_suffix(".py").exists() or (base / "__init__.py").exists() or name == "archivekit":
        return name
    for extension in C_EXTENSIONS:
        if name == extension or name.startswith(extension + "."):
            return extension
    return None


def _package(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_the_layers_cover_every_module() -> None:
    assert SOURCES
    names = {module_name(path) for path in SOURCES}
    assert "archivekit.gosem.decode" in names
    assert {layer(name) for name in names} == set(LAYERS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_higher_layer(path: Path) -> None:
    me = module_name(path)
    mine = LAYERS.index(layer(me))
    upward = []
    for line, name in imports(path, _package(path)):
        target = _archivekit_module(name)
        if target is None or target == me:
            continue
        if LAYERS.index(layer(target)) > mine:
            upward.append(f"line {line}: {target} ({layer(target)})")
    assert not upward, f"{me} ({layer(me)}) imports upward: {upward}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_third_party_packages_stay_where_they_belong(path: Path) -> None:
    me = module_name(path)
    for line, name in imports(path, _package(path)):
        top = name.split(".")[0]
        allowed = ONLY_IN.get(top)
        if allowed is not None:
            assert me.startswith(allowed), f"{me} imports {top} on line {line}"


def test_the_walk_sees_local_imports_and_extensions_by_name_not_type_checking(
    tmp_path: Path,
) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from archivekit.validate import validate\n"
        'FAST = native.native_module("archivekit.write._redact")\n'
        "def f():\n"
        "    from archivekit.cli import cli\n"
        '    return native_module("archivekit.read._zipindex")\n',
        encoding="utf-8",
    )
    found = [name for _, name in imports(source)]
    assert "archivekit.cli" in found
    assert "archivekit.validate" not in found
    assert "archivekit.write._redact" in found
    assert "archivekit.read._zipindex" in found


def test_every_c_extension_is_a_module_of_its_package_layer() -> None:
    assert {
        "archivekit.check.fast._scan",
        "archivekit.check.fast._report",
        "archivekit.read._zipindex",
        "archivekit.write._redact",
    } <= C_EXTENSIONS
    assert _archivekit_module("archivekit.read._zipindex") == "archivekit.read._zipindex"
    assert _archivekit_module("archivekit.check.fast._scan.scan") == "archivekit.check.fast._scan"
    assert layer("archivekit.read._zipindex") == "read"
    assert layer("archivekit.write._redact") == "write"


def test_every_extension_loaded_by_name_is_built_from_a_c_source() -> None:
    """A misspelt ``native_module`` name would silently run the Python twin."""
    loaded = {
        name
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and (name := _native_name(node)) is not None
    }
    assert loaded == C_EXTENSIONS


def test_an_upward_import_is_caught() -> None:
    assert LAYERS.index(layer("archivekit.report.model")) > LAYERS.index(
        layer("archivekit.check.engine")
    )
    assert layer("archivekit.validate") == "entry"
    assert layer("archivekit") == "entry"
    assert layer("archivekit.issues") == "foundation"
