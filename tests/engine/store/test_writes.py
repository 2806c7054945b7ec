"""The store's one writer: atomic, never through a symbolic link, a refused write is one line (exit 2).

Issue 23: ``sweep-report`` wrote its HTML through a link planted in ``<runs>/sweeps/`` and
overwrote a file outside the store; a full disk was ``internal error: ComputeError: parquet``
and a read-only runs directory ``internal error: OSError ... '.claims'``.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from engine.cli import main
from engine.config.run_config import RunConfig, StrategySpec
from engine.config.sweep_spec import load_spec
from engine.pipeline.prepare import prepare
from engine.store import run_notes, tracking, writes
from engine.store.run_store import COMPLETE, RunStore
from engine.workflows.record import run_and_store
from engine.workflows.sweep import run_sweep
from tests.conftest import random_walk_market
from tests.engine.test_store_integrity import sweep_spec

ROOT_USER = os.geteuid() == 0  # root writes through read-only modes: those tests inject the error


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def one_run(store: RunStore) -> str:
    config = RunConfig(strategies=(StrategySpec(name="ma-trend", params={"window": 20}),), seeds=(0,))
    return run_and_store(prepare(config, market=random_walk_market(n=300)), store).run_id


def outside_file(tmp_path: Path) -> Path:
    victim = tmp_path / "outside" / "precious.txt"
    victim.parent.mkdir()
    victim.write_text("keep me\n")
    return victim


# the writer itself -----------------------------------------------------------------------------
def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    writes.make_dirs(root / "a" / "b", root)
    writes.write_json(root / "a" / "b" / "x.json", {"k": 1}, root=root)
    writes.write_bytes(root / "a" / "b" / "x.json", b'{"k": 2}\n', root=root)  # replaces
    assert json.loads((root / "a" / "b" / "x.json").read_text()) == {"k": 2}
    assert sorted(p.name for p in (root / "a" / "b").iterdir()) == ["x.json"]


def test_a_link_as_target_or_on_the_way_is_refused_and_the_outside_is_untouched(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    victim = outside_file(tmp_path)
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "x.json").symlink_to(victim)
    with pytest.raises(writes.StoreWriteError, match=r"x\.json.*symbolic link"):
        writes.write_json(root / "sub" / "x.json", {}, root=root)
    (root / "linked").symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(writes.StoreWriteError, match=r"linked.*symbolic link"):
        writes.write_text(root / "linked" / "precious.txt", "pwned", root=root)
    with pytest.raises(writes.StoreWriteError, match="linked"):
        writes.make_dirs(root / "linked" / "deeper", root)
    assert victim.read_text() == "keep me\n"
    assert sorted(p.name for p in victim.parent.iterdir()) == ["precious.txt"]
    assert os.listdir(root / "sub") == ["x.json"]  # no temp file left behind


def test_the_runs_directory_itself_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "disk" / "runs"
    real.mkdir(parents=True)
    (tmp_path / "runs").symlink_to(real, target_is_directory=True)
    writes.write_json(tmp_path / "runs" / "tracked.json", {"a": 1}, root=tmp_path / "runs")
    assert (real / "tracked.json").is_file()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "disk full"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
        (errno.EDQUOT, "quota"),
    ],
)
def test_os_errors_are_one_line_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    def refuse(fd: int, data: object) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(writes.os, "write", refuse)
    target = tmp_path / "m.json"
    with pytest.raises(writes.StoreWriteError) as info:
        writes.write_json(target, {"a": 1})
    assert str(info.value) == f"cannot write {target}: " + str(info.value).split(": ", 1)[1]
    assert words in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # the temp file is removed, nothing half-written


# every writer of the store goes through it ------------------------------------------------------
def test_run_notes_and_tracking_refuse_planted_links(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    run_id = one_run(store)
    victim = outside_file(tmp_path)
    (store.root / run_id / run_notes.FILE).symlink_to(victim)
    with pytest.raises(writes.StoreWriteError, match=run_notes.FILE):
        run_notes.write(store.root / run_id, "label", "notes")
    (store.root / tracking.FILE).symlink_to(victim)
    with pytest.raises(writes.StoreWriteError, match=tracking.FILE):
        tracking.save(store.root, {})
    assert victim.read_text() == "keep me\n"


def test_a_run_folder_planted_as_a_link_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run id's folder that is a link (to a folder outside) is never written into or published over."""
    import engine.workflows.record as record

    store = RunStore(tmp_path / "runs")
    victim = outside_file(tmp_path)
    store.root.mkdir()
    config = RunConfig(strategies=(StrategySpec(name="ma-trend", params={"window": 20}),), seeds=(0,))
    prepared = prepare(config, market=random_walk_market(n=300))
    fixed = "20990101-000000-abcdef"
    (store.root / f"{fixed}.partial").symlink_to(victim.parent, target_is_directory=True)
    monkeypatch.setattr(record, "new_run_id", lambda *a, **k: fixed)
    with pytest.raises(writes.StoreWriteError, match=fixed):
        run_and_store(prepared, store)
    assert sorted(p.name for p in victim.parent.iterdir()) == ["precious.txt"]
    assert not any(i.status == COMPLETE for i in store.list())


def test_sweep_report_refuses_a_link_in_the_sweeps_folder(tmp_path: Path, capsys) -> None:
    store = RunStore(tmp_path / "runs")
    run_sweep(load_spec(sweep_spec(tmp_path)), store, workers=1)
    victim = outside_file(tmp_path)
    (store.root / "sweeps").mkdir()
    (store.root / "sweeps" / "s.html").symlink_to(victim)
    code, _, err = cli(capsys, "sweep-report", "s")
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "s.html" in lines[0] and "symbolic link" in lines[0]
    assert victim.read_text() == "keep me\n"
    # the sweeps folder itself a link to the outside: refused the same way
    (store.root / "sweeps" / "s.html").unlink()
    (store.root / "sweeps").rmdir()
    (store.root / "sweeps").symlink_to(victim.parent, target_is_directory=True)
    code, _, err = cli(capsys, "sweep-report", "s")
    assert code == 2 and "sweeps" in err and "symbolic link" in err
    assert sorted(p.name for p in victim.parent.iterdir()) == ["precious.txt"]


# disk full, read-only, permission denied --------------------------------------------------------
def test_disk_full_while_storing_is_one_line_and_nothing_is_listed_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    real = writes.os.write

    def full(fd: int, data: bytes) -> int:
        if len(data) > 200:  # the manifest of a running run fits; the Parquet files do not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(writes.os, "write", full)
    code, _, err = cli(capsys, "run", "--strategy", "ma-trend", "--seeds", "1")
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip() and "cannot write" in line]
    assert len(lines) == 1 and "disk full" in lines[0] and "internal error" not in err
    assert "runs" in lines[0]  # the path is named
    monkeypatch.undo()
    root = tmp_path / "runs"
    assert [i for i in RunStore(root).list() if i.status == COMPLETE] == []
    assert not [p for p in root.iterdir() if p.name.endswith(".partial")]  # removed: frees the space


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders; the injected errors cover it")
def test_a_read_only_runs_directory_is_one_line(tmp_path: Path, capsys) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    root.chmod(0o555)
    try:
        code, _, err = cli(capsys, "run", "--strategy", "ma-trend", "--seeds", "1")
    finally:
        root.chmod(0o755)
    assert code == 2, err
    assert "cannot write" in err and str(root) in err and "permission denied" in err
    assert "internal error" not in err and "Traceback" not in err
    assert RunStore(root).list() == []


def test_read_only_injected_when_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The read-only case for every user (root included): mkdir of the claims folder says EROFS."""
    real = writes.os.mkdir

    def read_only(path: object, *args: object, **kwargs: object) -> None:
        if str(path).startswith(str(tmp_path / "runs")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        real(path, *args, **kwargs)  # type: ignore[arg-type]

    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(writes.os, "mkdir", read_only)
    code, _, err = cli(capsys, "run", "--strategy", "ma-trend", "--seeds", "1")
    assert code == 2, err
    assert "read-only file system" in err and "internal error" not in err
