"""The layers hold: feeds -> strategies -> engine's rooms (config, pipeline, store, workflows) -> the door
(engine.api) and the rows -> the surfaces (cli, dashboard, app.py).

Every module is parsed (never imported), so an import inside a function counts as much as one at the top.
The arrows run one way (docs/architecture.md):

- ``feeds`` imports nothing of ours; ``strategies`` imports ``feeds`` only;
- ``engine.config`` imports no other room; ``engine.pipeline`` imports config only (no store, no
  workflows); ``engine.store`` imports config and the pipeline; ``engine.workflows`` imports config,
  pipeline and store; ``engine.rows`` reads results (config, pipeline, store), never a workflow;
- the surfaces (``engine.cli``, ``engine.dashboard``) import only ``engine.api``, ``engine.rows`` and
  ``engine.config`` of the engine (and each other);
- nothing below the surfaces imports a surface library (typer, rich, plotly, streamlit);
- no module sits directly under ``engine/`` other than ``__init__``, ``__main__`` and ``api``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SURFACE_LIBRARIES = ("typer", "rich", "plotly", "streamlit")
SURFACES = ("engine.cli", "engine.dashboard")
ROOMS = ("engine.config", "engine.pipeline", "engine.store", "engine.workflows", "engine.rows", "engine.api")
FLAT_ALLOWED = {"__init__.py", "__main__.py", "api.py"}

# what each part of the tree may import of ours (a prefix list); everything of ours not listed is forbidden
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "feeds": ("feeds",),
    "strategies": ("feeds", "strategies"),
    "engine.config": ("feeds", "strategies", "engine.config"),
    "engine.pipeline": ("feeds", "strategies", "engine.config", "engine.pipeline"),
    "engine.store": ("feeds", "strategies", "engine.config", "engine.pipeline", "engine.store"),
    "engine.workflows": (
        "feeds",
        "strategies",
        "engine.config",
        "engine.pipeline",
        "engine.store",
        "engine.workflows",
    ),
    "engine.rows": ("feeds", "strategies", "engine.config", "engine.pipeline", "engine.store", "engine.rows"),
    "engine.api": (
        "feeds",
        "strategies",
        "engine.config",
        "engine.pipeline",
        "engine.store",
        "engine.workflows",
        "engine.rows",
        "engine.api",
    ),
    "engine.cli": (
        "feeds",
        "strategies",
        "engine.api",
        "engine.rows",
        "engine.config",
        "engine.cli",
        "engine.dashboard",
    ),
    "engine.dashboard": (
        "feeds",
        "strategies",
        "engine.api",
        "engine.rows",
        "engine.config",
        "engine.cli",
        "engine.dashboard",
    ),
    "engine": ("feeds", "strategies", "engine"),  # engine/__init__.py, __main__.py: the package's own names
}
OURS = ("feeds", "strategies", "engine")


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, anywhere in the file, as absolute dotted names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = list(path.relative_to(root).with_suffix("").parts)[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from engine import api` names the module engine.api
            names.update(
                f"{module}.{alias.name}" if module == "engine" and not alias.name.startswith("_") else module
                for alias in node.names
            )
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _part(dotted: str) -> str:
    for key in sorted(MAY_IMPORT, key=len, reverse=True):
        if _within(dotted, key):
            return key
    raise AssertionError(dotted)


def layer_violations(root: Path = ROOT) -> set[tuple[str, str]]:
    """(module path, forbidden import) for every import that runs against the layers under ``root``."""
    found: set[tuple[str, str]] = set()
    for top in OURS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            dotted = ".".join(path.relative_to(root).with_suffix("").parts)
            part = _part(dotted)
            allowed = MAY_IMPORT[part]
            for name in imported_modules(path, root):
                if part not in SURFACES and any(_within(name, lib) for lib in SURFACE_LIBRARIES):
                    found.add((rel, name.split(".")[0]))
                elif name == "engine":
                    continue  # the package itself: its lazy public names (engine/__init__.py)
                elif any(_within(name, ours) for ours in OURS) and not any(_within(name, a) for a in allowed):
                    found.add((rel, name))
    return found


def test_imports_run_one_way():
    violations = sorted(layer_violations())
    assert not violations, "imports against the layers (module, import): " + repr(violations)


def test_no_module_directly_under_engine_but_the_door():
    flat = sorted(p.name for p in (ROOT / "engine").glob("*.py") if p.name not in FLAT_ALLOWED)
    assert not flat, f"modules directly under engine/ (put each in its room): {flat}"


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    files = {
        "feeds/__init__.py": "",
        "feeds/a.py": "def f():\n    from strategies.base import Strategy\n",
        "strategies/__init__.py": "",
        "strategies/b.py": "from engine.pipeline import runner\n",
        "engine/__init__.py": "",
        "engine/pipeline/__init__.py": "",
        "engine/pipeline/c.py": "import rich.table\nfrom ..store import run_store\n",
        "engine/pipeline/d.py": "import numpy\nfrom engine.config.run_config import RunConfig\n",
        "engine/store/__init__.py": "",
        "engine/store/e.py": "def g():\n    from engine.workflows.sweep import run_sweep\n",
        "engine/cli/__init__.py": (
            "import typer\nfrom engine.store.run_store import RunStore\nfrom engine import api\n"
        ),
        "engine/dashboard/page.py": "import streamlit\nfrom engine import rows\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert layer_violations(tmp_path) == {
        ("feeds/a.py", "strategies.base"),
        ("strategies/b.py", "engine.pipeline"),
        ("engine/pipeline/c.py", "rich"),
        ("engine/pipeline/c.py", "engine.store"),
        ("engine/store/e.py", "engine.workflows.sweep"),
        ("engine/cli/__init__.py", "engine.store.run_store"),
    }


def test_every_package_is_listed_for_the_wheel():
    # setuptools installs only the packages pyproject.toml names: a new subpackage left out works in a
    # checkout (editable install) and is missing from a regular install
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in OURS
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found == listed


def test_every_module_of_the_rooms_has_a_row_in_docs_architecture():
    # the rooms' tables in docs/architecture.md are the map of engine/: a module added, split or
    # renamed without its row leaves the map wrong
    text = (ROOT / "docs" / "architecture.md").read_text()
    rooms = ("config", "pipeline", "store", "workflows", "rows")
    missing = sorted(
        path.relative_to(ROOT).as_posix()
        for room in rooms
        for path in (ROOT / "engine" / room).glob("*.py")
        if path.name != "__init__.py" and f"| `{path.relative_to(ROOT).as_posix()}` |" not in text
    )
    assert not missing, f"modules without a row in docs/architecture.md: {missing}"
    gone = sorted(
        name
        for name in re.findall(r"^\| `(engine/[a-z_/]+\.py)` \|", text, re.MULTILINE)
        if not (ROOT / name).exists()
    )
    assert not gone, f"rows in docs/architecture.md for modules that do not exist: {gone}"


# numba kernels: long loops written out so that numba compiles them into one call (exempt from the sizes)
# fills.py: the fill kernels (fee-neutral, and vectorbt's sequential rule kept for its comparison),
# each one loop numba compiles whole, with the small @njit helpers they share
KERNEL_MODULES = ("strategies/nn/lstm_kernel.py", "engine/pipeline/fills.py")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _sources() -> list[Path]:
    return [*sorted(p for top in OURS for p in (ROOT / top).rglob("*.py")), ROOT / "app.py"]


def _compiled(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether numba compiles the function (``@njit``, ``@numba.njit(...)``, a ``_jit`` wrapper)."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if "jit" in name:
            return True
    return False


def test_no_file_over_400_lines_outside_numba_kernels():
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in _sources()
        if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES
        and p.relative_to(ROOT).as_posix() not in KERNEL_MODULES
    }
    assert not long, f"files over {MAX_FILE_LINES} lines (split them along a seam): {long}"


def test_no_function_over_60_lines_outside_numba_kernels():
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _compiled(node):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if (node.end_lineno or start) - start + 1 > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno} {node.name}")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
