"""Property: whatever is written into a file of a real run folder (random bytes, a truncation, a
value of another JSON type), every command that reads the run exits 0 or 2 with at most one line
on stderr, never a traceback, and ``runs`` still lists the other run as complete."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import engine
from engine.cli import main
from engine.store.run_store import COMPLETE, RunStore
from feeds.errors import InputError
from tests.engine.test_store_integrity import one_run

FILES = ("manifest.json", "metrics.json", "equity.parquet", "weights.parquet")
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("fuzz") / "runs"
    store = RunStore(root)
    return root, one_run(store, n=120), one_run(store, n=120)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


def _replace(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return doc


@st.composite
def damage(draw: st.DrawFn) -> tuple[str, str, Any]:
    name = draw(st.sampled_from(FILES))
    kind = draw(
        st.sampled_from(("bytes", "truncate", "flip") + (("retype",) if name.endswith(".json") else ()))
    )
    if kind == "bytes":
        return name, kind, draw(st.binary(max_size=300))
    if kind in ("truncate", "flip"):
        return name, kind, draw(st.floats(min_value=0.0, max_value=0.999))
    return name, kind, (draw(st.integers(min_value=0, max_value=10**6)), draw(JSON_VALUES))


def _apply(path: Path, kind: str, arg: Any) -> None:
    data = path.read_bytes()
    if kind == "bytes":
        path.write_bytes(arg)
    elif kind == "truncate":
        path.write_bytes(data[: int(len(data) * arg)])
    elif kind == "flip":
        i = int(len(data) * arg)
        path.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
    else:
        doc = json.loads(data)
        choices = _paths(doc)
        index, new = arg
        path.write_text(json.dumps(_replace(doc, choices[index % len(choices)], new)))


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("STOCKRNN_FUZZ_EXAMPLES", "60")),  # more for a longer campaign
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(hurt=damage())
def test_any_damage_to_a_run_folder_is_one_line_or_nothing(pristine, tmp_path, capsys, hurt):
    source, good, bad = pristine
    root = tmp_path / "runs"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(source, root, symlinks=True)
    name, kind, arg = hurt
    _apply(root / bad / name, kind, arg)
    html = str(tmp_path / "report.html")
    commands = (
        ["runs"],
        ["show", bad],
        ["show", bad, "--json"],
        ["show", bad, "--html", html],
        ["compare", good, bad],
        ["update", bad],
        ["rerun", bad],
    )
    for args in commands:
        code, err = (
            _cli(capsys, *args, "--runs-dir", str(root))
            if args[0] != "runs"
            else _cli(capsys, "runs", "--runs-dir", str(root))
        )
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning")]
        assert code in (0, 2), (args, hurt, err)
        assert "Traceback" not in err and "internal error" not in err, (args, hurt, err)
        if code == 2:
            assert len(lines) == 1, (args, hurt, err)
    with contextlib.suppress(InputError):
        engine.load(bad, runs_dir=root)
    statuses = {i.run_id: i.status for i in RunStore(root).list()}
    assert statuses[good] == COMPLETE and bad in statuses
