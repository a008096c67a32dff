"""The plain-data unpickler: real infos pickles at every protocol, hostile ones refused unrun."""

from __future__ import annotations

import collections
import os
import pickle
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest

from spar3d.errors import InputError, UnsafeInputError
from spar3d.safe_pickle import load_plain_pickle, loads_plain


def _infos_like() -> dict[str, Any]:
    """Every kind of value real mmdet3d / EmbodiedScan infos hold."""
    pose = np.arange(16, dtype=np.float64).reshape(4, 4)
    shared = np.eye(4)
    return {
        "metainfo": collections.OrderedDict(
            [("dataset", "scannet"), ("categories", {"chair": 0, "table": 1})]
        ),
        "data_list": [
            {
                "sample_idx": "scannet/scene0000_00",
                "axis_align_matrix": shared,
                "cam2img": shared,
                "images": [
                    {"img_path": "posed_images/scene0000_00/00000.jpg", "cam2global": pose},
                    {"img_path": "posed_images/scene0000_00/00020.jpg", "cam2global": pose.T},
                ],
                "instances": [
                    {"bbox_3d": [0.5, 1.0, 0.2, 0.4, 0.4, 0.8, 0.0], "bbox_label_3d": np.int64(3)}
                ],  # fmt: skip
                "names": np.array(["chair", "otherfurniture"]),
                "bytes_names": np.array([b"ab", b"c"]),
                "mask": np.array([True, False, True]),
                "u8": np.arange(7, dtype=np.uint8),
                "i32": np.array([-1, 2, 3], dtype=np.int32),
                "f32": np.linspace(0, 1, 5, dtype=np.float32),
                "big_endian": np.arange(3, dtype=">f8"),
                "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
                "zero_d": np.array(2.5),
                "empty": np.zeros((0, 7)),
                "complex": np.array([1 + 2j]),
                "scalar_f": np.float32(0.25),
                "scalar_b": np.bool_(True),
                "path": PurePosixPath("a/b.jpg"),
                "tuple": (1, 2.0, "x", None, b"raw", bytearray(b"ba")),
                "set": {1, 2},
                "frozen": frozenset({"a"}),
                "dd": collections.defaultdict(list, {"k": [1]}),
                "empty_bytes": b"",
            }
        ],
    }


def _assert_same(a: Any, b: Any) -> None:
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    elif isinstance(a, np.generic):
        assert type(a) is type(b) and a == b
    elif isinstance(a, PurePosixPath):
        assert str(a) == str(b)
    else:
        assert a == b and type(a) is type(b)


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_every_protocol_round_trips(protocol: int, tmp_path: Path) -> None:
    obj = _infos_like()
    path = tmp_path / f"p{protocol}_infos.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    back = load_plain_pickle(path)
    _assert_same(obj, back)
    entry = back["data_list"][0]
    assert entry["axis_align_matrix"] is entry["cam2img"]  # shared references stay shared
    assert entry["dd"]["new"] == []  # a defaultdict keeps its plain factory
    entry["u8"][0] = 9  # arrays are writable copies, not views into the file bytes


def test_mmengine_protocol_2_uses_codecs_encode_and_reads() -> None:
    # mmengine's PickleHandler dumps with protocol=2: every array's bytes go through
    # _codecs.encode(<latin-1 text>, "latin1"), the global the old reader refused
    data = pickle.dumps([{"point_cloud": {"lidar_idx": "scene0000_00"},
                          "intrinsics": np.eye(4)}], protocol=2)  # fmt: skip
    assert b"_codecs\nencode" in data
    (entry,) = loads_plain(data)
    np.testing.assert_array_equal(entry["intrinsics"], np.eye(4))


def test_numpy_1_module_names_read() -> None:
    data = pickle.dumps({"a": np.arange(3.0), "s": np.int64(4)}, protocol=0)
    old = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert old != data
    out = loads_plain(old)
    np.testing.assert_array_equal(out["a"], np.arange(3.0))
    assert out["s"] == 4


# --- hostile pickles ------------------------------------------------------------------------


def _marker_payloads(marker: Path) -> dict[str, bytes]:
    """Pickles that would create ``marker`` if anything in them ran."""
    m = str(marker)
    touch = f"open({m!r}, 'w').write('ran')"

    class System:
        def __reduce__(self) -> Any:
            return (os.system, (f"touch {m}",))

    class Popen:
        def __reduce__(self) -> Any:
            return (subprocess.Popen, (["touch", m],))

    out = {f"os.system p{p}": pickle.dumps([System()], protocol=p) for p in range(6)}
    out["subprocess.Popen"] = pickle.dumps(Popen(), protocol=2)
    for fn in ("eval", "exec"):
        out[f"builtins.{fn}"] = f"cbuiltins\n{fn}\n(V{touch}\ntR.".encode()
    out["builtins.__import__"] = b"cbuiltins\n__import__\n(Vos\ntR."  # then getattr(os, 'system')
    out["builtins.getattr"] = (
        b"cbuiltins\ngetattr\n(cbuiltins\ndict\nVkeys\ntR."  # any attribute access
    )
    inner = pickle.dumps([System()], protocol=2)
    out["pickle.loads gadget"] = b"cpickle\nloads\n(C" + bytes([len(inner)]) + inner + b"tR."
    out["_pickle.loads gadget"] = b"c_pickle\nloads\n(C" + bytes([len(inner)]) + inner + b"tR."
    out["copyreg._reconstructor"] = b"ccopyreg\n_reconstructor\n(cos\nsystem\ntR."
    out["numpy.load gadget"] = f"cnumpy\nload\n(V{m}\ntR.".encode()
    out["numpy runstring gadget"] = (
        f"cnumpy.testing._private.utils\nrunstring\n(V{touch}\n(dtR.".encode()
    )
    # _reconstruct with a callable other than ndarray as the "class"
    out["_reconstruct(os.system)"] = (
        f"cnumpy._core.multiarray\n_reconstruct\n(cos\nsystem\nVtouch {m}\nVb\ntR.".encode()
    )
    out["numpy DType class"] = b"cnumpy\nFloat64DType\n)R."
    return out


def test_hostile_pickles_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    payloads = _marker_payloads(marker)
    for name, data in payloads.items():
        path = tmp_path / "bad_infos.pkl"
        path.write_bytes(data)
        with pytest.raises(UnsafeInputError, match=r"bad_infos\.pkl: refusing to load") as err:
            load_plain_pickle(path)
        assert "re-save it as plain data" in str(err.value), name
        assert not marker.exists(), f"{name} ran code"
    # the same payloads really do run under plain pickle (the test can fail)
    pickle.loads(payloads["os.system p2"])
    assert marker.exists()


def _ndarray_pickle(dtype_name: str, state_tail: bytes, data: bytes, shape: int) -> bytes:
    """ndarray via _reconstruct + BUILD, written opcode by opcode (protocol 2)."""
    dtype = (
        b"cnumpy\ndtype\n(V" + dtype_name.encode() + b"\nI00\nI01\ntR(I3\nV<\n" + state_tail + b"tb"
    )
    return (
        b"\x80\x02cnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I0\ntC\x01btR"
        b"(I1\n(I"
        + str(shape).encode()
        + b"\nt"
        + dtype
        + b"I00\nC"
        + bytes([len(data)])
        + data
        + b"tb."
    )


def test_ndarray_pickle_builder_is_valid() -> None:
    ok = _ndarray_pickle("f8", b"NNNI-1\nI-1\nI0\n", np.arange(2.0).tobytes(), 2)
    np.testing.assert_array_equal(loads_plain(ok), np.arange(2.0))
    np.testing.assert_array_equal(pickle.loads(ok), np.arange(2.0))


@pytest.mark.parametrize(
    "name,data",
    [
        # object dtype: numpy would read the 8 bytes as a PyObject pointer and crash
        ("object pointer", _ndarray_pickle("O8", b"NNNI-1\nI-1\nI63\n", b"\x41" * 8, 1)),
        ("void", _ndarray_pickle("V8", b"NNNI8\nI1\nI0\n", b"\x41" * 8, 1)),
        # a fields state turns a plain dtype into a structured one holding an object
        (
            "structured state",
            _ndarray_pickle(
                "V8",
                b"N(Va\nt(Va\n(cnumpy\ndtype\n(VO8\nI00\nI01\ntRI0\ntdI8\nI1\nI63\n",
                b"\x41" * 8,
                1,
            ),
        ),  # fmt: skip
        ("short data", _ndarray_pickle("f8", b"NNNI-1\nI-1\nI0\n", b"\x00" * 8, 1000)),
        ("shape beyond data", _ndarray_pickle("u1", b"NNNI-1\nI-1\nI0\n", b"", 10**9)),
    ],
)
def test_crafted_numpy_state_is_refused(name: str, data: bytes) -> None:
    with pytest.raises(UnsafeInputError, match="refusing to load"):
        loads_plain(data, "x.pkl")


@pytest.mark.parametrize(
    "name,data",
    [
        ("bytes(N)", b"\x80\x02c__builtin__\nbytes\nJ\x00\xe1\xf5\x05\x85R."),  # 100 MB
        ("bytes(N) py3", b"\x80\x02cbuiltins\nbytes\nJ\x00\xe1\xf5\x05\x85R."),
        ("bytearray(N)", b"\x80\x02cbuiltins\nbytearray\nJ\x00\xe1\xf5\x05\x85R."),
        ("list(range)", b"\x80\x02cbuiltins\nlist\ncbuiltins\nrange\nJ\x00\xe1\xf5\x05\x85R\x85R."),
        ("str * n via int", b"\x80\x02cbuiltins\nstr\n]\x85R."),
        (
            "frombuffer huge shape",
            b"\x80\x02cnumpy._core.numeric\n_frombuffer\n(C\x00"
            b"cnumpy\ndtype\n(Vu1\nI00\nI01\ntR(I3\nV|\nNNNI-1\nI-1\nI0\ntbJ\x00\xe1\xf5\x05"
            b"\x85V\x43\ntR.",
        ),  # fmt: skip
    ],
)
def test_exhaustion_is_refused(name: str, data: bytes) -> None:
    with pytest.raises(UnsafeInputError, match="refusing to load"):
        loads_plain(data, "x.pkl")


def test_deep_nesting_is_a_named_error() -> None:
    deep = b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b"."
    with pytest.raises(UnsafeInputError, match="nested"):
        loads_plain(deep, "x.pkl")


def test_shared_reference_bomb_reads_in_linear_time() -> None:
    # 60 levels of [x, x]: 2**60 leaves when expanded, 60 objects when shared
    x: Any = [np.zeros(1)]
    for _ in range(60):
        x = [x, x]
    out = loads_plain(pickle.dumps(x, protocol=2))
    for _ in range(60):
        assert out[0] is out[1]
        out = out[0]


def test_truncated_and_garbage_files_are_named(tmp_path: Path) -> None:
    good = pickle.dumps({"a": np.arange(3)}, protocol=2)
    for name, data in {"truncated": good[:-7], "garbage": b"not a pickle at all"}.items():
        p = tmp_path / f"{name}.pkl"
        p.write_bytes(data)
        with pytest.raises(InputError, match=rf"{name}\.pkl: cannot read pickle"):
            load_plain_pickle(p)
    with pytest.raises(InputError, match=r"missing\.pkl: cannot read"):
        load_plain_pickle(tmp_path / "missing.pkl")


def test_cli_names_the_refused_global_without_traceback(tmp_path: Path) -> None:
    """`spar3d index` on a scene whose infos pickle tries to run code: one line, exit 4."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "scenes"))
    from preprocessed_fixture import write_preprocessed_scene

    stem = write_preprocessed_scene(tmp_path / "data", "scene0000_00", protocol=2)
    marker = tmp_path / "PWNED"
    (stem.parent / "scannet_infos_train.pkl").write_bytes(_marker_payloads(marker)["os.system p2"])
    r = subprocess.run(
        [sys.executable, "-m", "spar3d", "index", str(stem) + "_vert.npy"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert not marker.exists()
    assert "Traceback" not in r.stderr + r.stdout
    assert "refusing to load global posix.system" in r.stdout + r.stderr
