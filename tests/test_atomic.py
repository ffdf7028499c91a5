"""Atomic writes: whole files or nothing, readable permissions, directories swapped whole."""

from __future__ import annotations

import json
import stat

import pytest

from bayeslaw import atomic


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_bytes_text_json(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    assert atomic.write_bytes(target, b"abc") == target
    assert target.read_bytes() == b"abc" and _mode(target) == 0o644
    atomic.write_text(target, "é")
    assert target.read_text(encoding="utf-8") == "é"
    atomic.write_json(tmp_path / "f.json", {"b": 1, "a": [1, 2]})
    assert json.loads((tmp_path / "f.json").read_text()) == {"a": [1, 2], "b": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "sub"]  # no temp left


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def interrupted(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_directory_swaps_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out"
    with atomic.atomic_directory(target) as tmp:
        (tmp / "a").write_text("1")
    assert (target / "a").read_text() == "1" and _mode(target) == 0o755
    with pytest.raises(RuntimeError), atomic.atomic_directory(target) as tmp:
        (tmp / "b").write_text("2")
        raise RuntimeError("half-way")
    assert sorted(p.name for p in target.iterdir()) == ["a"]  # untouched
    with atomic.atomic_directory(target) as tmp:
        (tmp / "c").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c"]  # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp left


def test_atomic_directory_refuses_what_it_may_not_replace(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep").write_text("x")
    with (
        pytest.raises(FileExistsError),
        atomic.atomic_directory(target, replace_if=lambda p: (p / "marker").exists()) as tmp,
    ):
        (tmp / "new").write_text("y")
    assert (target / "keep").read_text() == "x"
    (tmp_path / "file").write_text("z")
    with pytest.raises(FileExistsError), atomic.atomic_directory(tmp_path / "file"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]


def test_stale_temporaries_are_removed_fresh_ones_kept(tmp_path):
    import os
    import time

    stale, fresh = tmp_path / ".f.txt.old1.tmp", tmp_path / ".f.txt.new1.tmp"
    stale.write_text("left by a killed writer")
    fresh.write_text("another writer, busy right now")
    old = time.time() - 2 * atomic.STALE_AFTER_S
    os.utime(stale, (old, old))
    atomic.write_text(tmp_path / "f.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".f.txt.new1.tmp", "f.txt"]
