"""A PyTorch-style dataset over a data_json (an index or a mix), markers drawn on load.

Works without torch (a plain class with ``__len__``/``__getitem__``); when torch is installed
it subclasses ``torch.utils.data.Dataset`` so ``DataLoader`` accepts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spar3d.data.layout import line_offsets
from spar3d.data.mix import entry_lengths, load_index, locate
from spar3d.data.sample import question_answer
from spar3d.markers.draw import draw_markers, load_images

try:  # torch is optional: only its Dataset base class is wanted
    from torch.utils.data import Dataset as _Base
except ImportError:  # pragma: no cover - depends on the environment
    _Base = object  # type: ignore[assignment,misc,unused-ignore]


class SparDataset(_Base):  # type: ignore[misc,valid-type,unused-ignore]
    """Samples of a data_json with InternVL repeat semantics.

    Item ``i`` walks the entries in order; entry ``e`` contributes ``length_with_repeat`` items
    (``int(length * repeat_time)``), item ``j`` of it being line ``j % length`` of its file.

    Each item is a dict: ``id``, ``images`` (list of RGB ``PIL.Image``, markers drawn unless
    ``draw=False``), ``question``, ``answer``, ``type``, ``key`` (data_json key) and ``sample``
    (the raw JSON object). ``transform`` is applied to that dict when given.

    Args:
        data_json: Path of a data_json, or the loaded mapping.
        base_dir: Directory that relative ``root``/``annotation`` paths are relative to.
        draw: Draw marker fields onto the images.
        transform: Optional callable applied to each item.
    """

    def __init__(
        self,
        data_json: str | Path | Mapping[str, Mapping[str, Any]],
        base_dir: str | Path = ".",
        draw: bool = True,
        transform: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        data = data_json if isinstance(data_json, Mapping) else load_index(data_json)
        self.base_dir = Path(base_dir)
        self.keys = list(data)
        self.entries = [dict(data[k]) for k in self.keys]
        with_repeat = entry_lengths(data)
        self.starts = np.concatenate([[0], np.cumsum(with_repeat)[:-1]]).astype(np.int64)
        self._len = int(with_repeat.sum())
        self.draw = draw
        self.transform = transform
        self._offsets: dict[int, np.ndarray] = {}
        self.lengths = np.array([int(e["length"]) for e in self.entries], dtype=np.int64)

    def __len__(self) -> int:
        return self._len

    def _path(self, p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else self.base_dir / q

    def _line(self, e: int, line: int) -> bytes:
        # Offsets are built lazily per file so each DataLoader worker only pays
        # for the files it touches.
        if e not in self._offsets:
            path = self._path(self.entries[e]["annotation"])
            off = line_offsets(path)
            if len(off) - 1 != self.lengths[e]:
                raise ValueError(
                    f"{path}: entry {self.keys[e]!r} says {self.lengths[e]} lines, file has "
                    f"{len(off) - 1}"
                )
            self._offsets[e] = off
        off = self._offsets[e]
        begin, end = int(off[line]), int(off[line + 1])
        with open(self._path(self.entries[e]["annotation"]), "rb") as fh:
            fh.seek(begin)
            return fh.read(end - begin)

    def raw(self, index: int) -> tuple[str, dict[str, Any]]:
        """``(key, sample)`` of item ``index`` without loading images."""
        e, sample = self._fetch(index)
        return self.keys[e], sample

    def _fetch(self, index: int) -> tuple[int, dict[str, Any]]:
        if not -self._len <= index < self._len:
            raise IndexError(f"index {index} out of range for {self._len} items")
        index %= self._len
        entry, line = locate(np.array([index], dtype=np.int64), self.starts, self.lengths)
        e, ln = int(entry[0]), int(line[0])
        text = self._line(e, ln)
        try:
            sample = json.loads(text)
        except json.JSONDecodeError as exc:
            path = self.entries[e]["annotation"]
            raise ValueError(f"{path}:{ln + 1}: malformed JSON ({exc.msg})") from None
        return e, sample

    def __getitem__(self, index: int) -> Any:
        e, sample = self._fetch(index)
        images = load_images(sample, self._path(self.entries[e]["root"]))
        if self.draw:
            images = draw_markers(images, sample)
        question, answer = question_answer(sample)
        item = {
            "id": sample.get("id"),
            "key": self.keys[e],
            "type": sample.get("type"),
            "images": images,
            "question": question,
            "answer": answer,
            "sample": sample,
        }
        return self.transform(item) if self.transform else item
