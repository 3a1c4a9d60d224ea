"""The dependency rule between apps, read from the code's imports (docs/architecture.md):

    crm  ->  relationships  ->  loyalty  ->  customers

and relationships.community may use customers and loyalty, which never import it. Every
import counts: at the top, inside a function, under TYPE_CHECKING, relative ones resolved
to absolute names. Migrations are skipped (Django writes their imports)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ("crm", "customers", "loyalty", "relationships")

# Longest prefix first: relationships.community is a part of its own.
PARTS = ("relationships.community", "relationships", "loyalty", "customers", "crm")
MAY_IMPORT = {
    "customers": {"customers"},
    "loyalty": {"loyalty", "customers"},
    "relationships.community": {"relationships.community", "loyalty", "customers"},
    "relationships": {"relationships", "relationships.community", "loyalty", "customers"},
    "crm": set(PARTS),
}


def part_of(module: str) -> str | None:
    """The app (or relationships.community) a dotted module name belongs to; None for
    anything else (Django, the standard library, third-party packages)."""
    for part in PARTS:
        if module == part or module.startswith(part + "."):
            return part
    return None


def module_name(path: Path, root: Path = ROOT) -> tuple[str, bool]:
    """customers/services/ledger.py -> ("customers.services.ledger", False);
    a package's __init__.py -> (its package name, True)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imported_modules(source: str, *, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the source. For `from X import a`
    the names are X.a, so `from relationships import community` is seen for what it is."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(p for p in [*base_parts, node.module or ""] if p)
            else:
                base = node.module or ""
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def violations(source: str, *, module: str, is_package: bool = False) -> list[str]:
    """One line per import that breaks the rule: the importer, the line and what it imports."""
    importer = part_of(module)
    if importer is None:
        return []
    allowed = MAY_IMPORT[importer]
    return [
        f"{module}:{line} imports {target} ({importer} may import only {', '.join(sorted(allowed))})"
        for line, target in imported_modules(source, module=module, is_package=is_package)
        if (part := part_of(target)) is not None and part not in allowed
    ]


def app_sources() -> list[Path]:
    return sorted(
        path
        for app in APP_DIRS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_no_import_runs_against_the_dependency_rule():
    sources = app_sources()
    assert len(sources) > 50, "the scan found too few modules: has the layout moved?"
    found = []
    for path in sources:
        module, is_package = module_name(path)
        found.extend(
            violations(path.read_text(encoding="utf-8"), module=module, is_package=is_package)
        )
    assert not found, "imports against the dependency rule:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("module", "is_package", "source"),
    [
        ("customers.services", False, "from loyalty.services import points_adjust\n"),
        ("customers.services", False, "def f():\n    import relationships.models\n"),
        (
            "customers.selectors",
            False,
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from loyalty.models import Membership\n",
        ),
        ("loyalty.services.ledger", False, "from relationships.community import selectors\n"),
        ("loyalty.api", False, "from relationships import community\n"),
        ("relationships.tasks", False, "from crm.celery import app\n"),
        ("relationships.nightly", True, "from crm import views\n"),
        # relative imports resolved: community reaching into the rest of relationships
        ("relationships.community.services", False, "from ..selectors import timeline\n"),
        ("relationships.community", True, "from .. import nightly\n"),
    ],
)
def test_the_checker_catches_a_violation(module, is_package, source):
    assert violations(source, module=module, is_package=is_package)


@pytest.mark.parametrize(
    ("module", "is_package", "source"),
    [
        (
            "customers.services",
            False,
            "from .models import Customer\nfrom django.db import transaction\n",
        ),
        (
            "customers.services.imports",
            False,
            "from ..models import Customer\nfrom . import fields\n",
        ),
        (
            "loyalty.services",
            True,
            "from customers.hooks import on_purchase_recorded\nfrom .ledger import x\n",
        ),
        (
            "relationships.nightly.run",
            False,
            "from ..models import NightlyRun\nfrom loyalty import selectors\n",
        ),
        ("relationships.selectors", True, "from relationships.community import selectors\n"),
        (
            "relationships.community.models",
            False,
            "from customers.models import Customer\nfrom loyalty.models import Program\nfrom .forms import F\n",
        ),
        (
            "crm.views",
            False,
            "from relationships.selectors import x\nfrom customers import selectors\n",
        ),
    ],
)
def test_the_checker_lets_the_allowed_imports_through(module, is_package, source):
    assert violations(source, module=module, is_package=is_package) == []


def test_the_failure_names_the_file_line_and_import():
    (message,) = violations(
        "import os\n\n\ndef f():\n    from crm import views\n", module="loyalty.tasks"
    )
    assert message.startswith("loyalty.tasks:5 imports crm.views")


def test_module_names_follow_the_path():
    assert module_name(ROOT / "relationships/nightly/run.py") == (
        "relationships.nightly.run",
        False,
    )
    assert module_name(ROOT / "loyalty/services/__init__.py") == ("loyalty.services", True)
