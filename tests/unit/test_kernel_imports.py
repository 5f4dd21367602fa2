"""The kernel stands alone: it imports no service, and its modules import each other in one
direction only (an import inside a function counts; one under TYPE_CHECKING does not)."""

from __future__ import annotations

import ast
from pathlib import Path

KERNEL = Path(__file__).resolve().parents[2] / "linli"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "linli":
                found |= {f"linli.{alias.name}" for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    return {f"linli.{p.stem}": _imports(p) for p in KERNEL.glob("*.py") if p.stem != "__init__"}


def test_the_kernel_imports_no_service_and_no_workflow() -> None:
    for module, imports in _graph().items():
        outside = sorted(i for i in imports if i.split(".")[0] in {"services", "workflows"})
        assert not outside, f"{module} imports {outside}"


def test_the_kernel_has_no_import_cycle() -> None:
    graph = {m: {i for i in imports if i in _graph()} for m, imports in _graph().items()}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, f"import cycle: {' → '.join([*path, module])}"
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
