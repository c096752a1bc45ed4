"""The package's layers: a module imports only from its own layer or lower ones.

foundation (issues, errors, runtime, native) < gosem < model < read < check < report < write <
testing < entry points (validate, inspect, cli, options, the package itself). Every import
counts, including those inside functions; only the ``if TYPE_CHECKING:`` block is exempt (never
run).
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


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path, package: str = "") -> list[tuple[int, str]]:
    """(line, imported module) for every import statement that can run; `package` resolves
    relative imports."""
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
    if name.startswith("archivekit.check.fast._scan"):
        return "archivekit.check.fast._scan"  # the C extension
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


def test_the_walk_sees_function_local_imports_but_not_type_checking_ones(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from archivekit.validate import validate\n"
        "def f():\n"
        "    from archivekit.cli import cli\n",
        encoding="utf-8",
    )
    found = [name for _, name in imports(source)]
    assert "archivekit.cli" in found
    assert "archivekit.validate" not in found


def test_an_upward_import_is_caught() -> None:
    assert LAYERS.index(layer("archivekit.report.model")) > LAYERS.index(
        layer("archivekit.check.engine")
    )
    assert layer("archivekit.validate") == "entry"
    assert layer("archivekit") == "entry"
    assert layer("archivekit.issues") == "foundation"
