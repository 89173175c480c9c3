"""Content hashes do not depend on how a file is read: small, big (mapped) or unmappable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xxhash

from amlrun import hashing


@pytest.mark.parametrize("size", [0, 1, hashing._BUF - 1, hashing._BUF, 3 * hashing._BUF + 5])
def test_a_file_hashes_to_the_hash_of_its_bytes_whatever_its_size(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "_MAP_CHUNK", hashing._BUF // 3)  # many mapped slices
    data = os.urandom(size)
    (tmp_path / "f").write_bytes(data)
    assert hashing.hash_file(tmp_path / "f") == xxhash.xxh3_128_hexdigest(data)


def test_a_big_file_that_cannot_be_mapped_is_read_to_the_same_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(hashing._BUF + 7)
    (tmp_path / "f").write_bytes(data)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no mmap here")

    monkeypatch.setattr(hashing.mmap, "mmap", refuse)
    assert hashing.hash_file(tmp_path / "f") == xxhash.xxh3_128_hexdigest(data)
