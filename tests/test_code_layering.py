"""The layering rule: accounts < candidates < imports. A module may import from its own app
and from the apps below it, never from an app above, not even inside a function."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("accounts", "candidates", "imports")  # lowest first


def _modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _package_of(path: Path) -> list[str]:
    return list(path.relative_to(ROOT).with_suffix("").parts[:-1])


def _imported_apps(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in the module, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                package = _package_of(path)
                base = package[: len(package) - node.level + 1]
                top = base[0] if base else (node.module or "").split(".")[0]
            else:
                top = (node.module or "").split(".")[0]
            found.append((node.lineno, top))
    return found


def upward_imports() -> list[str]:
    problems = []
    for rank, app in enumerate(LAYERS):
        above = set(LAYERS[rank + 1 :])
        for path in _modules(app):
            for line, top in _imported_apps(path):
                if top in above:
                    where = path.relative_to(ROOT)
                    problems.append(f"{where}:{line} imports {top} (above {app})")
    return problems


def test_no_app_imports_an_app_above_it():
    assert upward_imports() == []


def test_every_kind_of_module_is_checked():
    checked = {str(p.relative_to(ROOT)) for app in LAYERS for p in _modules(app)}
    assert "candidates/management/commands/seed_demo.py" in checked
    assert "candidates/templatetags/candidates_tags.py" in checked
    assert "accounts/permissions.py" in checked
    assert not any("/migrations/" in p for p in checked)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from imports.models import ImportBatch\n", ["imports"]),
        ("def f():\n    import candidates.selectors\n", ["candidates"]),
        ("def f():\n    from candidates import services\n", ["candidates"]),
        ("from ...imports import x\n", ["imports"]),
        ("from . import models\nfrom django import forms\n", []),
    ],
)
def test_the_check_sees_function_level_and_relative_imports(
    tmp_path, monkeypatch, source, expected
):
    # A module placed in accounts/ (as far as the check can tell) with the given source.
    module = tmp_path / "accounts" / "sub" / "mod.py"
    module.parent.mkdir(parents=True)
    module.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    tops = [top for _line, top in _imported_apps(module) if top in LAYERS[1:]]
    assert tops == expected
