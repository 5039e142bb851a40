"""The layout keeps its promises: no import cycles, an engine that imports no domain, and one
commit point (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.database_independent("reads the source code; no database")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("workflow", "models")
ENGINE = "workflow.engine"
# The engine may use the models and itself; every other workflow package is a domain or an
# application layer above it.
ENGINE_MAY_IMPORT = ("workflow.engine", "models")
UNIT_OF_WORK = ROOT / "workflow" / "engine" / "unit_of_work.py"


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _typing_only(tree: ast.Module) -> set[int]:
    """Nodes inside `if TYPE_CHECKING:` blocks: they never run, so they make no cycle."""
    return {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and "TYPE_CHECKING" in ast.unparse(branch.test)
        for statement in branch.body
        for node in ast.walk(statement)
    }


def _imported_names(name: str, path: Path) -> set[str]:
    """Every module name `name` imports, function-level imports included."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = _typing_only(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                if path.name != "__init__.py":
                    parts.pop()
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a package's own parents left out)."""
    modules = _modules()

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {resolve(t) for t in _imported_names(name, path)}
        graph[name] = {t for t in targets if t and t != name and not name.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_round_a_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_engine_imports_no_domain() -> None:
    graph = import_graph()
    engine_modules = [m for m in graph if m == ENGINE or m.startswith(ENGINE + ".")]
    assert len(engine_modules) > 10
    wrong = {
        module: sorted(t for t in targets if not t.startswith(ENGINE_MAY_IMPORT))
        for module, targets in graph.items()
        if module in engine_modules
    }
    assert {m: t for m, t in wrong.items() if t} == {}


# The one other commit: the engine ends a PostgreSQL transaction that ran only SELECTs with
# COMMIT instead of ROLLBACK (alike for it), so psycopg keeps its prepared statements.
READ_ONLY_END = (ROOT / "workflow" / "engine" / "db.py", "dbapi_connection.commit()")


def test_only_the_unit_of_work_commits() -> None:
    """Views, API handlers, templates, models and operations end their writes in the unit of
    work; nothing else calls commit() or rollback()."""
    pattern = re.compile(r"\.(commit|rollback)\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in (*PACKAGES, "templates")
        for path in sorted((ROOT / package).rglob("*"))
        if path.suffix in (".py", ".html") and path != UNIT_OF_WORK
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if pattern.search(line) and (path, line.strip()) != READ_ONLY_END
    ]
    assert offenders == []


# Who may read the administrator flag: the policy decides with it; the admin pages and the CLI
# and demo set it; the engine and the meeting machine match the definitions' "admin" role.
ADMIN_FLAG_READERS = {
    "models/user.py",  # the column itself
    "workflow/policy.py",
    "workflow/admin/forms.py",
    "workflow/admin/operations.py",
    "workflow/admin/views.py",
    "workflow/admin/checks.py",  # an admin may not take away their own flag
    "workflow/api/admin.py",  # the admin pages' user edit through the API (writes it)
    "workflow/cli.py",
    "workflow/demo.py",
    "workflow/engine/core.py",
    "workflow/meetings/operations.py",
    "workflow/sso/operations.py",  # sets the flag from a mapped admin group (writes it)
    "templates/admin/user_new.html",
    "templates/admin/user_edit.html",
    "templates/admin/users.html",
}


def test_access_is_decided_by_the_policy_not_by_the_admin_flag_here_and_there() -> None:
    readers = {
        str(path.relative_to(ROOT))
        for package in (*PACKAGES, "templates")
        for path in (ROOT / package).rglob("*")
        if path.suffix in (".py", ".html") and "is_admin" in path.read_text("utf-8")
    }
    assert readers - ADMIN_FLAG_READERS == set()


# Fields that take free input without the boundary's checks (workflow/engine/values.py): forms
# use the fields in workflow/web/fields.py instead (docs/architecture.md).
UNCHECKED_FIELDS = (
    "StringField", "TextAreaField", "EmailField", "DateField", "DecimalField", "URLField",
)  # fmt: skip
FIELDS_MODULE = ROOT / "workflow" / "web" / "fields.py"


def test_forms_take_input_through_the_validated_fields() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {alias.name}"
        for path in sorted((ROOT / "workflow").rglob("*.py"))
        if path != FIELDS_MODULE
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wtforms")
        for alias in node.names
        if alias.name in UNCHECKED_FIELDS
    ]
    assert offenders == []
