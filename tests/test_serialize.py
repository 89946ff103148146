"""descend.serialize: save/load of state dicts as .npz, without pickle, written atomically."""

import json
import os
import signal
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import descend
from descend.serialize import load, save


def model_state():
    rng = np.random.default_rng(0)
    return {
        "fc1.weight": descend.from_numpy(rng.standard_normal((4, 3)).astype(np.float32)),
        "fc1.bias": descend.from_numpy(rng.standard_normal(4).astype(np.float32)),
        "bn.running_mean": descend.from_numpy(rng.standard_normal(4)),  # float64
        "bn.num_batches_tracked": descend.tensor(7),  # int64, 0-d
        "mask": descend.tensor([True, False]),
        "half": descend.from_numpy(np.array([0.5, 1.5], dtype=np.float16)),
        "codes": descend.from_numpy(np.array([1, 2, 250], dtype=np.uint8)),
    }


def optimizer_state():
    """PyTorch's optimizer.state_dict() layout: integer parameter ids, tuples, None, bools."""
    return {
        "state": {
            0: {"step": 3, "exp_avg": descend.ones(4, 3), "exp_avg_sq": descend.full((4, 3), 0.25)},
            1: {"step": 3, "exp_avg": descend.zeros(4), "exp_avg_sq": descend.zeros(4)},
        },
        "param_groups": [
            {
                "lr": 0.1,
                "betas": (0.9, 0.999),
                "eps": 1e-08,
                "weight_decay": 0.0,
                "amsgrad": False,
                "maximize": False,
                "foreach": None,
                "params": [0, 1],
            }
        ],
    }


def assert_same(a, b, where="obj"):
    """Equal structure, types (tuple vs list, int vs float), dtypes and values."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, descend.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=where)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert type(k) is type(list(b)[list(a).index(k)]), f"{where}: key {k!r}"
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            assert_same(u, v, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


# --- round trips ---


def test_model_state_dict_round_trip(tmp_path):
    state = model_state()
    save(state, tmp_path / "model.npz")
    back = load(tmp_path / "model.npz")
    assert_same(state, back)
    assert back["bn.running_mean"].dtype == descend.float64 and back["half"].dtype == descend.float16
    assert back["bn.num_batches_tracked"].shape == ()


def test_optimizer_state_dict_round_trip(tmp_path):
    state = optimizer_state()
    save(state, str(tmp_path / "opt.npz"))
    back = load(str(tmp_path / "opt.npz"))
    assert_same(state, back)
    assert list(back["state"]) == [0, 1]  # integer keys stay integers
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)


def test_nested_checkpoint_round_trip(tmp_path):
    ckpt = {
        "model": model_state(),
        "optimizer": optimizer_state(),
        "epoch": 3,
        "best_loss": 0.1 + 0.2,  # a float that only round-trips exactly through repr
        "history": [1.5, float("inf"), float("nan"), -0.0],
        "name": "mlp \u2014 spirals",
        "flags": (True, None, [1, (2, 3)]),
        "rng": {"state": np.array([1, 2, 3], dtype=np.uint64), "scale": np.float32(0.1)},
        (1, "a"): {1.5: "float key", None: "none key", False: "bool key"},
        "empty": {},
    }
    save(ckpt, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert_same(ckpt, back)
    assert isinstance(back["rng"]["state"], np.ndarray) and isinstance(back["rng"]["scale"], np.float32)
    assert back["best_loss"] == 0.1 + 0.2


def test_requires_grad_is_kept(tmp_path):
    w = descend.randn(3, requires_grad=True)
    save({"w": w}, tmp_path / "w.npz")
    assert load(tmp_path / "w.npz")["w"].requires_grad


def test_loaded_tensors_are_independent_of_the_saved_ones(tmp_path):
    state = {"w": descend.zeros(3)}
    save(state, tmp_path / "w.npz")
    back = load(tmp_path / "w.npz")
    back["w"]._data += 1
    assert state["w"].numpy().tolist() == [0.0, 0.0, 0.0]


def test_file_is_a_plain_npz_with_readable_keys_and_json_metadata(tmp_path):
    save({"model": {"fc.weight": descend.ones(2, 2)}, "optimizer": optimizer_state(), "epoch": 3},
         tmp_path / "c.npz")  # fmt: skip
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        assert "model/fc.weight" in npz.files
        assert "optimizer/state/0/exp_avg" in npz.files
        meta = npz["__descend__"]
        assert meta.dtype == np.uint8
        assert json.loads(meta.tobytes())["format"] == "descend.save"
        assert all(npz[k].dtype != object for k in npz.files)


def test_key_collisions_get_distinct_members(tmp_path):
    # "0" and 0 flatten to the same member name; both must survive with their own values and key types.
    obj = {"0": descend.tensor([1.0]), 0: descend.tensor([2.0]), "__descend__": descend.tensor([3.0])}
    save(obj, tmp_path / "c.npz")
    assert_same(obj, load(tmp_path / "c.npz"))


def test_list_and_tuple_top_level(tmp_path):
    for obj in ([descend.ones(2), 3], (descend.ones(2), "x"), descend.arange(4)):
        save(obj, tmp_path / "x.npz")
        assert_same(obj, load(tmp_path / "x.npz"))


def test_real_model_and_optimizer_state_dicts(tmp_path):
    nn = pytest.importorskip("descend.nn", reason="descend.nn not available yet")
    optim = pytest.importorskip("descend.optim", reason="descend.optim not available yet")
    if not hasattr(nn, "Linear") or not hasattr(optim, "Adam"):
        pytest.skip("descend.nn.Linear / descend.optim.Adam not available yet")
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss = model(descend.randn(5, 3)).pow(2).mean()
    loss.backward()
    opt.step()
    save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert_same(model.state_dict(), back["model"])
    assert_same(opt.state_dict(), back["optimizer"])


# --- what save refuses ---


@pytest.mark.parametrize(
    "obj, where",
    [
        ({"model": {"fc.weight": object()}}, r"obj\['model'\]\['fc.weight'\] of type object"),
        ({"a": [1, {2, 3}]}, r"obj\['a'\]\[1\] of type set"),
        ({"f": lambda x: x}, r"obj\['f'\] of type function"),
        ({"arr": np.array([None, 1], dtype=object)}, r"obj\['arr'\]: arrays of Python objects"),
    ],
)
def test_unsupported_types_name_the_key(tmp_path, obj, where):
    with pytest.raises(TypeError, match=where):
        save(obj, tmp_path / "bad.npz")
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_unsupported_dict_key(tmp_path):
    with pytest.raises(TypeError, match=r"dict key of type frozenset in obj\['outer'\]"):
        save({"outer": {frozenset([1]): 1}}, tmp_path / "bad.npz")


# --- what load refuses ---


def test_pickled_object_array_is_refused_and_not_run(tmp_path):
    save({"w": descend.ones(2)}, tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as npz:
        members = {k: npz[k] for k in npz.files}
    ran = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(ran), "w"))

    members["w"] = np.array([Payload()], dtype=object)
    np.savez(tmp_path / "evil.npz", **members)  # np.savez pickles object arrays
    with pytest.raises(ValueError, match=r"evil\.npz: its entry 'w' holds pickled Python objects"):
        load(tmp_path / "evil.npz")
    assert not ran.exists()


def test_plain_pickle_file_is_refused(tmp_path):
    import pickle

    (tmp_path / "model.pt").write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(ValueError, match=r"model\.pt: pickled data .* refuses"):
        load(tmp_path / "model.pt")


def test_truncated_file(tmp_path):
    save({"model": model_state(), "epoch": 1}, tmp_path / "c.npz")
    data = (tmp_path / "c.npz").read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(ValueError, match=r"can't load .*cut\.npz: .*truncated or corrupt"):
            load(tmp_path / "cut.npz")


def test_corrupted_member_data(tmp_path):
    save({"w": descend.zeros(1000)}, tmp_path / "c.npz")
    data = bytearray((tmp_path / "c.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the array's bytes: the zip CRC no longer matches
    (tmp_path / "c.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"c\.npz: entry 'w' is truncated or corrupt"):
        load(tmp_path / "c.npz")


def test_plain_npz_is_not_a_checkpoint(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(3))
    with pytest.raises(ValueError, match=r"plain\.npz: it is an .npz archive but not a descend checkpoint"):
        load(tmp_path / "plain.npz")


def test_other_files(tmp_path):
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"one\.npy: a single .npy array"):
        load(tmp_path / "one.npy")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt: not an .npz archive"):
        load(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_corrupt_metadata(tmp_path):
    with zipfile.ZipFile(tmp_path / "m.npz", "w") as zf:
        with zf.open("__descend__.npy", "w") as f:
            np.lib.format.write_array(f, np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(ValueError, match=r"m\.npz: its descend metadata is corrupt"):
        load(tmp_path / "m.npz")


# --- atomic writes ---


def test_failure_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1, "w": descend.ones(3)}, path)
    before = path.read_bytes()
    real_write = np.lib.format.write_array
    calls = []

    def failing_write(fp, array, *args, **kwargs):
        calls.append(array.shape)
        if len(calls) == 2:  # after the metadata, part-way through the arrays
            fp.write(b"partial")
            raise OSError("No space left on device")
        return real_write(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="No space left"):
        save({"epoch": 2, "w": descend.zeros(3), "b": descend.zeros(2)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary file left
    monkeypatch.undo()
    assert load(path)["epoch"] == 1


def test_failure_on_a_new_path_leaves_nothing(tmp_path, monkeypatch):
    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        save({"w": descend.ones(3)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


def test_save_writes_exactly_the_given_path(tmp_path):
    save({"w": descend.ones(1)}, tmp_path / "weights")
    assert os.listdir(tmp_path) == ["weights"]
    assert load(tmp_path / "weights")["w"].numpy().tolist() == [1.0]


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"can't save to .*nowhere.*the folder .* does not exist"):
        save({"w": descend.ones(1)}, tmp_path / "nowhere" / "c.npz")


def test_generator_state_round_trips(tmp_path):
    # A bit generator's state holds 128-bit ints: JSON keeps them exact, so a run can resume its draws.
    rng = np.random.default_rng(42)
    rng.standard_normal(5)
    save({"rng": rng.bit_generator.state}, tmp_path / "rng.npz")
    resumed = np.random.default_rng()
    resumed.bit_generator.state = load(tmp_path / "rng.npz")["rng"]
    np.testing.assert_array_equal(resumed.standard_normal(3), rng.standard_normal(3))


# --- keys round-trip exactly, whatever they contain ---


def test_keys_ending_in_npy_stay_distinct(tmp_path):
    a, b = descend.tensor([1.0, 2.0]), descend.tensor([3.0])
    save({"fc.weight": a, "fc.weight.npy": b}, tmp_path / "k.npz")
    loaded = load(tmp_path / "k.npz")
    np.testing.assert_array_equal(loaded["fc.weight"].numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(loaded["fc.weight.npy"].numpy(), [3.0])
    # numpy.load sees distinct names too (none ends in ".npy", which numpy would strip or match twice)
    with np.load(tmp_path / "k.npz") as npz:
        values = sorted(npz[name].tolist() for name in npz.files if name != "__descend__")
    assert values == [[1.0, 2.0], [3.0]]


SPECIAL_KEYS = ["", ".npy", "a.npy", "a", "a/b", "/", "__descend__", "ü.npy", "#1"]
KEYS = st.one_of(st.sampled_from(SPECIAL_KEYS), st.text(max_size=12))
LEAVES = st.integers(0, 5)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, st.dictionaries(KEYS, LEAVES, max_size=3) | LEAVES, max_size=6))
def test_random_keys_round_trip(tmp_path_factory, spec):
    # each leaf number n becomes an array of n+1 distinct values, so a swapped member shows up
    counter = iter(range(10**6))

    def build(node):
        if isinstance(node, dict):
            return {k: build(v) for k, v in node.items()}
        return np.arange(node + 1, dtype=np.float64) + 100 * next(counter)

    obj = build(spec)
    path = tmp_path_factory.mktemp("keys") / "k.npz"
    save(obj, path)
    assert_same(load(path), obj)


# --- crafted and damaged files: always ValueError naming the path and the problem ---


def rewrite_member(src, dst, name, data):
    """Copy the archive `src` to `dst`, replacing member `name`'s bytes (stored, no compression)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == name else zin.read(info.filename))


def npy_bytes(arr=None, header=None, payload=b""):
    import io

    if header is None:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr, allow_pickle=False)
        return buf.getvalue()
    head = repr(header).encode("latin1")
    head += b" " * (63 - (len(head) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head + payload


def meta_bytes(tree):
    doc = json.dumps({"format": "descend.save", "version": 1, "tree": tree}).encode()
    return npy_bytes(np.frombuffer(doc, dtype=np.uint8))


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    save({"w": descend.tensor([1.0, 2.0], requires_grad=True), "n": descend.tensor([1, 2])}, path)
    return path


def patch_local_and_central(data, offset_in_header, value, fmt="<H"):
    """Set a field at the same offset in every local (PK\\3\\4) and central (PK\\1\\2) header."""
    data = bytearray(data)
    for sig, base in ((b"PK\x03\x04", 0), (b"PK\x01\x02", 2)):
        start = 0
        while (i := data.find(sig, start)) >= 0:
            struct.pack_into(fmt, data, i + base + offset_in_header, value)
            start = i + 4
    return bytes(data)


def test_unknown_compression_method(tmp_path, good):
    (tmp_path / "m.npz").write_bytes(patch_local_and_central(good.read_bytes(), 8, 99))
    with pytest.raises(ValueError, match=r"m\.npz: entry '.*' uses zip compression method 99"):
        load(tmp_path / "m.npz")


def test_encrypted_flag(tmp_path, good):
    (tmp_path / "e.npz").write_bytes(patch_local_and_central(good.read_bytes(), 6, 0x1))
    with pytest.raises(ValueError, match=r"e\.npz: entry '.*' is encrypted"):
        load(tmp_path / "e.npz")


def test_metadata_nested_thousands_deep(tmp_path, good):
    deep = "[" * 100_000 + "]" * 100_000
    doc = ('{"format": "descend.save", "version": 1, "tree": ' + deep + "}").encode()
    rewrite_member(good, tmp_path / "d.npz", "__descend__.npy", npy_bytes(np.frombuffer(doc, dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"d\.npz: its descend metadata is corrupt \(nested too deep"):
        load(tmp_path / "d.npz")
    tree = {"type": "list", "items": []}
    for _ in range(300):  # parses, but deeper than any checkpoint (and than _decode will follow)
        tree = {"type": "list", "items": [tree]}
    rewrite_member(good, tmp_path / "d2.npz", "__descend__.npy", meta_bytes(tree))
    message = r"d2\.npz: malformed descend metadata \(containers nested more than 200"
    with pytest.raises(ValueError, match=message):
        load(tmp_path / "d2.npz")


def test_declared_shape_of_10_to_the_12_elements(tmp_path, good):
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}
    huge = npy_bytes(header=header, payload=bytes(8))
    rewrite_member(good, tmp_path / "h.npz", "w.npy", huge)
    message = r"h\.npz: entry 'w\.npy' declares shape \(1000000, 1000000\) of float32 \(4000000000000 bytes\)"
    with pytest.raises(ValueError, match=message + " but holds 8"):
        load(tmp_path / "h.npz")


def test_integer_tensor_marked_requires_grad(tmp_path, good):
    tree = {"type": "dict", "items": [["n", {"type": "tensor", "key": "n", "requires_grad": True}]]}
    rewrite_member(good, tmp_path / "i.npz", "__descend__.npy", meta_bytes(tree))
    with pytest.raises(ValueError, match=r"i\.npz: entry 'n' is marked requires_grad but holds int64"):
        load(tmp_path / "i.npz")


@pytest.mark.parametrize("tree, problem", [
    ({"type": "dict", "items": [["w"]]}, r"a dict item that is not a \[key, value\] pair"),
    ({"type": "dict", "items": 3}, r"a 'dict' entry without a list of items"),
    ({"type": "list"}, r"a 'list' entry without a list of items"),
    ({"type": "dict", "items": [[[1], 2]]}, r"a dict key that is \[1\]"),
    ({"type": "tensor", "key": 7}, r"an array entry whose key is 7"),
    ({"type": "tensor", "key": "nope"}, r"the array 'nope' named in its metadata is missing"),
    ({"type": "scalar", "key": "w"}, r"entry 'w' should hold a 0-d scalar but has shape \(2,\)"),
    ({"type": "bogus"}, r"unknown entry type 'bogus'"),
    ({"items": []}, r"malformed descend metadata \(unexpected"),
])  # fmt: skip
def test_malformed_metadata(tmp_path, good, tree, problem):
    rewrite_member(good, tmp_path / "x.npz", "__descend__.npy", meta_bytes(tree))
    with pytest.raises(ValueError, match=r"x\.npz: .*" + problem):
        load(tmp_path / "x.npz")


def test_fuzzed_files_raise_only_value_error(tmp_path, good):
    data = good.read_bytes()
    rng = np.random.default_rng(0)
    path = tmp_path / "f.npz"
    outcomes = {"ok": 0, "ValueError": 0}
    for trial in range(400):
        damaged = bytearray(data)
        if trial % 3 == 0:
            damaged = damaged[: rng.integers(0, len(data))]
        else:
            for i in rng.integers(0, len(data), size=rng.integers(1, 4)):
                damaged[i] = rng.integers(0, 256)
        path.write_bytes(bytes(damaged))
        try:
            load(path)
            outcomes["ok"] += 1
        except ValueError as e:
            assert str(path) in str(e)
            outcomes["ValueError"] += 1
    assert outcomes["ValueError"] > 100


# --- temporaries of killed writers, file modes, symlinks ---


WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
import numpy as np
import descend.serialize as s
real_fsync = os.fsync
def stall(fd):
    print("writing", flush=True)
    time.sleep(60)
os.fsync = stall
s.save({{"w": np.zeros(1000)}}, {path!r})
"""


def start_writer(path):
    root = str(Path(descend.__file__).resolve().parents[1])
    code = WRITER.format(root=root, path=str(path))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def temporaries(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".descend-tmp"))


def test_a_killed_writers_temporary_is_removed_by_the_next_save(tmp_path):
    dead, live = start_writer(tmp_path / "ckpt.npz"), start_writer(tmp_path / "other.npz")
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        assert len(temporaries(tmp_path)) == 2
        save({"w": descend.ones(3)}, tmp_path / "ckpt.npz")
        left = temporaries(tmp_path)
        assert len(left) == 1 and f".{live.pid}." in left[0]  # the live writer's file is untouched
        np.testing.assert_array_equal(load(tmp_path / "ckpt.npz")["w"].numpy(), np.ones(3))
    finally:
        live.kill()
        live.wait()


def test_saving_over_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "private.npz"
    save({"w": descend.ones(2)}, path)
    os.chmod(path, 0o600)
    save({"w": descend.zeros(2)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    np.testing.assert_array_equal(load(path)["w"].numpy(), [0.0, 0.0])


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "real.npz"
    save({"w": descend.ones(2)}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save({"w": descend.zeros(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(load(target)["w"].numpy(), [0.0, 0.0])
