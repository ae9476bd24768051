"""One atomic writer for files and directories: the target is either the old one or the
complete new one, and no temporary is left behind."""

import os

import pytest

from ffnscope.atomic import atomic_path, write_text


def write_dir(path, files):
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)


def listing(directory):
    return sorted(p.name for p in directory.iterdir())


def test_file_replaces_an_existing_target(tmp_path):
    target = tmp_path / "sub" / "out.tsv"
    write_text(target, "old\n")
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".tsv" and not tmp.exists()
        tmp.write_text("new\n")
        assert target.read_text() == "old\n"  # untouched until the block succeeds
    assert target.read_text() == "new\n"
    assert listing(target.parent) == ["out.tsv"]


def test_file_failure_leaves_neither_target_nor_temporary(tmp_path):
    with pytest.raises(RuntimeError, match="interrupted"), atomic_path(tmp_path / "out.tsv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert listing(tmp_path) == []


def test_file_failure_keeps_the_existing_target(tmp_path):
    target = tmp_path / "out.tsv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert target.read_text() == "old\n"
    assert listing(tmp_path) == ["out.tsv"]


def test_directory_replaces_an_existing_target(tmp_path):
    target = tmp_path / "model"
    write_dir(target, {"config.json": "old", "stale.bin": "old"})
    with atomic_path(target) as staging:
        write_dir(staging, {"config.json": "new", "model.safetensors": "new"})
        assert listing(target) == ["config.json", "stale.bin"]
    assert listing(target) == ["config.json", "model.safetensors"]  # the old directory's files are gone
    assert (target / "config.json").read_text() == "new"
    assert listing(tmp_path) == ["model"]  # neither the staging nor the old directory is left


def test_directory_failure_leaves_neither_target_nor_temporary(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "model") as staging:
        write_dir(staging, {"config.json": "half"})
        raise RuntimeError
    assert listing(tmp_path) == []


def test_directory_failure_keeps_the_existing_target(tmp_path):
    target = tmp_path / "model"
    write_dir(target, {"config.json": "old"})
    with pytest.raises(RuntimeError), atomic_path(target) as staging:
        write_dir(staging, {"config.json": "half"})
        raise RuntimeError
    assert listing(tmp_path) == ["model"]
    assert (target / "config.json").read_text() == "old"


def test_leftover_of_an_interrupted_process_is_cleared(tmp_path):
    target = tmp_path / "model"
    write_dir(tmp_path / f".model.tmp-{os.getpid()}", {"stale.bin": "x"})  # a killed job of the same pid
    with atomic_path(target) as staging:
        write_dir(staging, {"config.json": "new"})
    assert listing(tmp_path) == ["model"]
    assert listing(target) == ["config.json"]


def test_write_lines_ends_every_line(tmp_path):
    from ffnscope.atomic import write_lines

    write_lines(tmp_path / "a.txt", ["eins zwei", 3])
    write_lines(tmp_path / "empty.txt", [])
    assert (tmp_path / "a.txt").read_text() == "eins zwei\n3\n" and (tmp_path / "empty.txt").read_text() == ""
