"""The package's modules import each other without a circle, and `create_app`'s
module imports nothing of the eventlet tuning: a newcomer can read any module after
the ones it imports, and the stock app never carries the tuning."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "comongus"


def module_name(path: Path) -> str:
    parts = path.with_suffix("").relative_to(PACKAGE.parent).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module of the package `path` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rsplit(".", 1)[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level \
                else node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules
                          else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    paths = list(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    # A package importing its own submodules is how a package is built, not a circle.
    edges = {module: {target for target in targets if not target.startswith(module + ".")}
             for module, targets in graph.items()}
    circles = []

    def walk(start: str, module: str, path: list[str]) -> None:
        for target in sorted(edges[module]):
            if target == start:
                circles.append(" -> ".join([*path, start]))
            elif target not in path and target > start:
                walk(start, target, [*path, target])

    for module in sorted(edges):
        walk(module, module, [module])
    assert circles == []


def test_the_app_factory_imports_nothing_of_the_tuning():
    graph = import_graph()
    assert not {module for module in graph["comongus"]
                if module.startswith("comongus.eventlet_tuning")}
