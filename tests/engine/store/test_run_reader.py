"""A damaged run folder never crashes a command: each file is checked before it is trusted
(size bounded, regular file inside the folder, schema validated), the run is ``broken`` with
the reason, commands print one line naming the run and file at exit 2, and ``runs`` lists the
other runs as before."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import engine
from engine.cli import main
from engine.store.run_store import BROKEN, COMPLETE, RunStore
from feeds.errors import InputError
from tests.engine.test_store_integrity import one_run


def cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _sparse(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(50 * 1024**3)  # 50 GB, sparse: nothing is written


def _wrong_types(path: Path) -> None:
    payload = json.loads(path.read_text())
    payload["strategies"][0]["cagr"] = "lots"
    payload["period"] = 5
    path.write_text(json.dumps(payload))


def _string_columns(path: Path) -> None:
    frame = pl.read_parquet(path)
    frame.with_columns(pl.all().cast(pl.String)).write_parquet(path)


def _random_parquet(path: Path) -> None:
    path.write_bytes(b"PAR1" + os.urandom(4000) + b"PAR1")


def _outside_link(path: Path) -> None:
    outside = path.parent.parent.parent / f"outside-{path.name}"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)


FAULTS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "metrics garbage": ("metrics.json", lambda p: p.write_bytes(b"\x00garbage}")),
    "metrics wrong types": ("metrics.json", _wrong_types),
    "metrics 50 GB sparse": ("metrics.json", _sparse),
    "metrics fifo": ("metrics.json", _fifo),
    "metrics link outside": ("metrics.json", _outside_link),
    "equity random bytes": ("equity.parquet", _random_parquet),
    "equity string columns": ("equity.parquet", _string_columns),
    "weights string columns": ("weights.parquet", _string_columns),
    "manifest a list": ("manifest.json", lambda p: p.write_text("[1, 2]")),
    "manifest config a string": (
        "manifest.json",
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "config": "x"})),
    ),
    "manifest fifo": ("manifest.json", _fifo),
    "manifest 50 GB sparse": ("manifest.json", _sparse),
}


@pytest.fixture
def two_runs(tmp_path) -> tuple[RunStore, str, str]:
    store = RunStore(tmp_path / "runs")
    return store, one_run(store), one_run(store)


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
def test_every_command_says_one_line_about_a_damaged_run(two_runs, capsys, fault):
    store, good, bad = two_runs
    name, damage = FAULTS[fault]
    damage(store.root / bad / name)
    statuses = {i.run_id: i for i in store.list()}
    assert statuses[good].status == COMPLETE
    # the cheap listing may or may not see deep damage; the full read always does
    html = str(store.root.parent / "report.html")
    for args in (["show", bad], ["compare", good, bad], ["show", bad, "--html", html]):
        code, out, err = cli(capsys, *args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, (args, out, err)
        assert len(lines) == 1 and bad in lines[0] and name in lines[0], (args, err)
        assert "Traceback" not in err and "internal error" not in err
    with pytest.raises(InputError, match=name):
        engine.load(bad, runs_dir=store.root)
    [after] = [i for i in store.list() if i.run_id == bad]
    assert after.status == BROKEN and name in after.error
    code, out, err = cli(capsys, "runs")
    assert code == 0 and good in out and bad in out and "broken" in out


@pytest.mark.parametrize("fault", ["metrics garbage", "manifest a list", "equity string columns"])
def test_rerun_and_update_say_one_line_about_a_damaged_run(two_runs, capsys, fault):
    store, _, bad = two_runs
    name, damage = FAULTS[fault]
    damage(store.root / bad / name)
    for args in (["rerun", bad], ["update", bad]):
        code, _, err = cli(capsys, *args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and bad in lines[0] and name in lines[0], (args, err)


def test_a_run_of_another_version_names_both_versions(two_runs, capsys):
    store, _, bad = two_runs
    path = store.root / bad / "metrics.json"
    payload = json.loads(path.read_text())
    for entry in payload["strategies"]:
        del entry["params"]
    path.write_text(json.dumps(payload))
    manifest_path = store.root / bad / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["versions"]["stock-rnn"] = "0.0.1-old"
    manifest_path.write_text(json.dumps(manifest))
    code, _, err = cli(capsys, "show", bad)
    assert code == 2 and "0.0.1-old" in err and "KeyError" not in err
    assert len(err.strip().splitlines()) == 1


# --- Property: whatever is written into a file of a real run folder (random bytes, a truncation, a
# value of another JSON type), every command that reads the run exits 0 or 2 with at most one line
# on stderr, never a traceback, and ``runs`` still lists the other run as complete.

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
