"""The layers hold: feeds -> strategies -> the engine's pipeline -> its surfaces (cli, dashboard, app.py).

Every module is parsed (never imported), so an import inside a function counts as
much as one at the top. A pipeline module (``engine/`` outside ``engine/cli/`` and
``engine/dashboard/``, ``feeds/``, ``strategies/``) imports no surface library
(typer, rich, plotly, streamlit) and no surface package; ``feeds`` imports neither
``strategies`` nor ``engine``; ``strategies`` does not import ``engine``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SURFACE_LIBRARIES = ("typer", "rich", "plotly", "streamlit")
SURFACE_PACKAGES = ("engine.cli", "engine.dashboard")

# (module path, imported top name or package) that break a rule today, on purpose or until a move lands.
# Each entry is checked to still be needed: one that no longer matches fails the test, so it is removed.
ALLOWED = {
    # plugin authors' test kit: check_strategy runs a short backtest and the audit through the engine
    # (imported inside the function, so `import strategies` never loads the engine)
    ("strategies/testing.py", "engine"),
}


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, as absolute dotted names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    # a module's package (for a package's __init__.py: the package itself)
    package = list(path.relative_to(root).with_suffix("").parts)[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's package
                base = package[: len(package) - node.level + 1]
                names.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                names.add(node.module)
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def layer_violations(root: Path = ROOT) -> set[tuple[str, str]]:
    """(module path, forbidden import) for every import that runs against the layers under ``root``."""
    found: set[tuple[str, str]] = set()
    for top in ("engine", "feeds", "strategies"):
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(("engine/cli/", "engine/dashboard/")) or rel == "engine/__main__.py":
                continue  # the surfaces (and `python -m engine`, the CLI) may import anything below them
            forbidden = [*SURFACE_LIBRARIES, *SURFACE_PACKAGES]
            if top == "feeds":
                forbidden += ["strategies", "engine"]
            elif top == "strategies":
                forbidden += ["engine"]
            for name in imported_modules(path, root):
                hit = next((f for f in forbidden if _within(name, f)), None)
                if hit is not None:
                    found.add((rel, hit))
    return found


def test_the_pipeline_imports_no_surface_and_no_layer_imports_upwards():
    violations = layer_violations()
    unexpected = sorted(violations - ALLOWED)
    assert not unexpected, "imports against the layers (module, import): " + repr(unexpected)
    stale = sorted(ALLOWED - violations)
    assert not stale, "allowed exceptions no longer needed, remove them from ALLOWED: " + repr(stale)


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    files = {
        "feeds/__init__.py": "",
        "feeds/a.py": "def f():\n    from strategies.base import Strategy\n",
        "strategies/__init__.py": "",
        "strategies/b.py": "from engine import runner\n",
        "engine/__init__.py": "",
        "engine/c.py": "import rich.table\nfrom .cli import app\n",
        "engine/d.py": "import numpy\nfrom engine.store import RunStore\n",
        "engine/cli/__init__.py": "import typer\nfrom engine import runner\n",
        "engine/dashboard/page.py": "import streamlit\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert layer_violations(tmp_path) == {
        ("feeds/a.py", "strategies"),
        ("strategies/b.py", "engine"),
        ("engine/c.py", "rich"),
        ("engine/c.py", "engine.cli"),
    }


def test_every_package_is_listed_for_the_wheel():
    # setuptools installs only the packages pyproject.toml names: a new subpackage left out works in a
    # checkout (editable install) and is missing from a regular install
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("engine", "feeds", "strategies")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed
