#!/usr/bin/python3
"""Generate the small HDF5 test files of weightsconv/hdf5.

Run from this directory with Debian's python3 (apt-get install python3-h5py
hdf5-tools):  /usr/bin/python3 gen.py [hdf5] [keras]
("keras" writes the tiny Keras files of ../../keras/testdata).

Every value is arange-based so the Go tests can recompute it; the tests in
hdf5_test.go state the same formulas. Outputs are committed; rerun only when
the set of files changes: the bytes differ from run to run (object
timestamps), the values do not.
"""
import h5py
import numpy as np

vstr = h5py.string_dtype()  # variable-length UTF-8


def basic():
    # Default libver: superblock v0, v1 object headers, symbol-table groups.
    with h5py.File("basic.h5", "w") as f:
        f.attrs["title"] = "basic file"  # vlen string scalar
        f.attrs["fixed"] = np.bytes_("fixed12")  # fixed-length string
        f.attrs["names"] = np.array([b"alpha", b"beta", b"gamma"], dtype="S5")
        f.attrs["vnames"] = np.array(["one", "two", "three"], dtype=vstr)
        f.attrs["floats"] = np.arange(4, dtype="<f8") / 4
        f.attrs["ints"] = np.arange(-2, 3, dtype="<i4")
        f.attrs["scalar"] = np.int64(42)
        g = f.create_group("a/b/c")  # nested groups
        g.attrs["depth"] = np.int32(3)
        # chunked + shuffle + deflate, partial edge chunks: (5, 7) in (2, 3) chunks
        f.create_dataset("a/chunked", data=np.arange(35, dtype="<f4").reshape(5, 7) * 0.5,
                         chunks=(2, 3), shuffle=True, compression="gzip", compression_opts=6)
        f.create_dataset("a/b/f64", data=np.arange(6, dtype="<f8").reshape(2, 3) - 2.5)
        f.create_dataset("a/b/c/i16", data=np.arange(-4, 4, dtype="<i2"))
        f.create_dataset("a/b/c/u8", data=np.arange(250, 256, dtype="u1"))
        f.create_dataset("bigendian_f4", data=(np.arange(10) * 1.5).astype(">f4"))
        f.create_dataset("bigendian_i8", data=(np.arange(-5, 5) * 1000).astype(">i8"))
        f.create_dataset("bigendian_chunked", data=np.arange(24, dtype=">f8").reshape(2, 3, 4),
                         chunks=(1, 2, 4), compression="gzip")
        sp = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        sp.set_layout(h5py.h5d.COMPACT)
        sid = h5py.h5s.create_simple((3, 2))
        dset = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, sid, dcpl=sp)
        dset.write(h5py.h5s.ALL, h5py.h5s.ALL, (np.arange(6, dtype="<f4").reshape(3, 2) + 1))
        f["compact"].attrs["layout"] = "compact"
        f.create_dataset("fixed_strings", data=np.array([b"x", b"yy", b"zzz"], dtype="S4"))
        f.create_dataset("vlen_strings", data=np.array(["hello", "", "world!"], dtype=vstr))
        f.create_dataset("scalar_f8", data=np.float64(3.25))
        f.create_dataset("fletcher", data=np.arange(12, dtype="<i4"), chunks=(4,), fletcher32=True)
        f.create_dataset("empty", shape=(0, 4), dtype="<f4")
        f.create_dataset("unwritten", shape=(4,), dtype="<f4", chunks=(2,))  # no chunks stored
        f["soft"] = h5py.SoftLink("/a/b/f64")
        # Attributes added after everything else no longer fit in the object
        # header: HDF5 appends a continuation block.
        for i in range(4):
            f["a/b/f64"].attrs[f"late{i}"] = np.arange(16, dtype="<f8") + i


def latest():
    # libver='latest': superblock v3, OHDR headers, link messages, v4 layouts.
    with h5py.File("latest.h5", "w", libver="latest", track_order=True) as f:
        f.attrs["created_by"] = "gen.py"
        g = f.create_group("ordered", track_order=True)
        for name in ["zeta", "alpha", "mid"]:  # creation order differs from name order
            g.create_group(name)
        dense = f.create_group("dense", track_order=True)
        for i in range(20):  # more than 8 links: fractal heap + v2 B-tree
            dense[f"link{19 - i:02d}"] = h5py.SoftLink(f"/target{i}")
        attrs = f.create_group("dense_attrs", track_order=True)
        for i in range(12):  # more than 8 attributes: dense attribute storage
            attrs.attrs[f"attr{11 - i:02d}"] = np.arange(i + 1, dtype="<i4")
        attrs.attrs["zz_str"] = "dense string"
        f.create_dataset("chunked", data=np.arange(40, dtype="<f4").reshape(8, 5),
                         chunks=(3, 2), shuffle=True, compression="gzip")  # fixed array index
        f.create_dataset("single", data=np.arange(12, dtype="<f8").reshape(3, 4),
                         chunks=(3, 4), compression="gzip")  # single chunk index
        f.create_dataset("contig", data=np.arange(5, dtype="<i8") * -3)
        f.create_dataset("vstr", data=np.array(["a", "bc"], dtype=vstr))
        for i in range(4):  # grow the header past its first chunk: OCHK block
            f["contig"].attrs[f"late{i}"] = np.arange(16, dtype="<f8") + i


def many_links():
    # 200 soft links in one group: the link-name v2 B-tree needs depth 1.
    with h5py.File("many_links.h5", "w", libver="latest") as f:
        g = f.create_group("g")
        for i in range(200):
            g[f"l{i:03d}"] = h5py.SoftLink(f"/t{i}")


def unsupported():
    # Features the reader refuses by name; each object fails on its own.
    with h5py.File("unsupported.h5", "w", libver="latest") as f:
        f.create_dataset("extensible", data=np.arange(4, dtype="<f4"), maxshape=(None,), chunks=(2,))
        f.create_dataset("btree2", data=np.arange(4, dtype="<f4").reshape(2, 2), maxshape=(None, None), chunks=(1, 1))
        f.create_dataset("lzf", data=np.zeros(256, dtype="<f4"), chunks=(256,), compression="lzf")
        f["named_type"] = np.dtype("<f8")
        f.create_dataset("uses_named_type", data=np.arange(3, dtype="<f8"), dtype=f["named_type"])
        f["external"] = h5py.ExternalLink("other.h5", "/data")
        f.create_dataset("compound", data=np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]))
        f.create_dataset("ok", data=np.arange(3, dtype="<i2"))


def userblock():
    # A 512-byte user block before the superblock: addresses are relative
    # to the superblock's base address.
    with h5py.File("userblock.h5", "w", userblock_size=512) as f:
        f.create_dataset("x", data=np.arange(6, dtype="<f4").reshape(2, 3) / 4)
        f.attrs["note"] = "after a user block"
    with open("userblock.h5", "r+b") as f:
        f.write(b"user block text")


def hdf5_files():
    basic()
    latest()
    many_links()
    unsupported()
    userblock()


# ---------------------------------------------------------------------------
# Keras files for weightsconv/keras, written with h5py in Keras's layouts
# (there is no TensorFlow here). One tiny model in every format:
#
#   input 6x6x3 -> Conv2D(3, 3x3, same, relu) -> BatchNormalization
#   -> MaxPooling2D(2) -> Flatten (27) -> Dense(4, relu) -> Dropout(0.5)
#   -> Dense(3, softmax)
#
# Weights are w_k = ((k % 11) - 5) / 10 over each array in C order, plus a
# per-array offset so that arrays differ; moving variance is made positive.
# tiny_expected.json holds the input and the float64 forward pass that the
# Go tests reproduce.

import json
import os
import zipfile

KERAS_DIR = os.path.join("..", "..", "keras", "testdata")

TINY_SHAPES = [
    ("conv2d", "Conv2D", [("kernel", (3, 3, 3, 3)), ("bias", (3,))]),
    ("batch_normalization", "BatchNormalization",
     [("gamma", (3,)), ("beta", (3,)), ("moving_mean", (3,)), ("moving_variance", (3,))]),
    ("max_pooling2d", "MaxPooling2D", []),
    ("flatten", "Flatten", []),
    ("dense", "Dense", [("kernel", (27, 4)), ("bias", (4,))]),
    ("dropout", "Dropout", []),
    ("dense_1", "Dense", [("kernel", (4, 3)), ("bias", (3,))]),
]


def tiny_weights():
    out = {}
    offset = 0.0
    for layer, _, vars_ in TINY_SHAPES:
        for name, shape in vars_:
            n = int(np.prod(shape))
            w = ((np.arange(n) % 11) - 5) / 10.0 + offset
            if name == "moving_variance":
                w = np.abs(w) + 0.5
            out[(layer, name)] = w.reshape(shape).astype("<f4")
            offset += 0.01
    return out


def tiny_input():
    return ((np.arange(6 * 6 * 3) % 13) * 20.0).reshape(6, 6, 3)


def tiny_forward(w, x):
    k, b = w[("conv2d", "kernel")].astype("f8"), w[("conv2d", "bias")].astype("f8")
    xp = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    y = np.zeros((6, 6, 3))
    for i in range(6):
        for j in range(6):
            y[i, j] = np.tensordot(xp[i:i + 3, j:j + 3, :], k, axes=([0, 1, 2], [0, 1, 2])) + b
    y = np.maximum(y, 0)
    g, be, mm, mv = (w[("batch_normalization", n)].astype("f8") for n in ("gamma", "beta", "moving_mean", "moving_variance"))
    y = (y - mm) / np.sqrt(mv + 1e-3) * g + be
    y = y.reshape(3, 2, 3, 2, 3).max(axis=(1, 3))
    y = y.reshape(-1)
    y = np.maximum(y @ w[("dense", "kernel")].astype("f8") + w[("dense", "bias")], 0)
    z = y @ w[("dense_1", "kernel")].astype("f8") + w[("dense_1", "bias")]
    p = np.exp(z - z.max())
    return z, p / p.sum()


def layer_config(name, cls):
    c = {"name": name, "trainable": True, "dtype": "float32"}
    if cls == "Conv2D":
        c.update(filters=3, kernel_size=[3, 3], strides=[1, 1], padding="same", data_format="channels_last",
                 dilation_rate=[1, 1], groups=1, activation="relu", use_bias=True,
                 kernel_regularizer={"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0001}})
    elif cls == "BatchNormalization":
        c.update(axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True)
    elif cls == "MaxPooling2D":
        c.update(pool_size=[2, 2], strides=[2, 2], padding="valid", data_format="channels_last")
    elif cls == "Flatten":
        c.update(data_format="channels_last")
    elif cls == "Dense":
        c.update(units=4 if name == "dense" else 3, activation="relu" if name == "dense" else "softmax", use_bias=True)
    elif cls == "Dropout":
        c.update(rate=0.5, seed=None)
    return c


def keras3_config():
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": [None, 6, 6, 3], "dtype": "float32", "sparse": False, "name": "input_layer"},
               "registered_name": None}]
    for name, cls, _ in TINY_SHAPES:
        layers.append({"module": "keras.layers", "class_name": cls, "config": layer_config(name, cls),
                       "registered_name": None})
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": "sequential", "trainable": True, "dtype": "float32", "layers": layers,
                       "build_input_shape": [None, 6, 6, 3]},
            "registered_name": None, "build_config": {"input_shape": [None, 6, 6, 3]}}


def keras3_weights(path, w, top="layers"):
    # Keras 3 saving_lib layout: layers/<name>/vars/<i>, optimizer state apart
    # (top "_layer_checkpoint_dependencies" in the first Keras 3 releases).
    with h5py.File(path, "w") as f:
        layers = f.create_group(top)
        for name, _, vars_ in TINY_SHAPES:
            g = layers.create_group(name)
            if top == "layers":
                g.attrs["name"] = name  # Keras >= 3.6
            v = g.create_group("vars")
            for i, (var, _) in enumerate(vars_):
                v.create_dataset(str(i), data=w[(name, var)])
        f.create_group("vars")
        opt = f.create_group("optimizer/vars")
        opt.create_dataset("0", data=np.int64(7))  # iterations; must be ignored
        opt.create_dataset("1", data=np.zeros((3, 3, 3, 3), "<f4"))


def save_split_attr(obj, name, values, per_chunk):
    # Keras 2 splits attributes larger than 64 kB into name0, name1, ...
    chunks = [values[i:i + per_chunk] for i in range(0, len(values), per_chunk)]
    for i, c in enumerate(chunks):
        obj.attrs[f"{name}{i}"] = np.array(c, dtype=f"S{max(len(s) for s in values)}")


def keras2_weights_group(g, w, split):
    names = [name.encode() for name, _, _ in TINY_SHAPES]
    if split:
        save_split_attr(g, "layer_names", names, 3)
    else:
        g.attrs["layer_names"] = np.array(names)
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = b"2.15.0"
    for name, _, vars_ in TINY_SHAPES:
        lg = g.create_group(name)
        wnames = [f"{name}/{var}:0".encode() for var, _ in vars_]
        # Keras writes np.asarray(names): an empty list becomes float64 (0,).
        lg.attrs["weight_names"] = np.array(wnames, dtype="S40") if wnames else np.asarray([])
        for (var, _), wn in zip(vars_, wnames):
            lg.create_dataset(wn.decode(), data=w[(name, var)])


def keras2_model_config():
    layers = []
    for i, (name, cls, _) in enumerate(TINY_SHAPES):
        c = layer_config(name, cls)
        if cls == "Conv2D":
            c["kernel_regularizer"] = {"class_name": "L2", "config": {"l2": 0.0001}}
        if i == 0:
            c["batch_input_shape"] = [None, 6, 6, 3]
        layers.append({"class_name": cls, "config": c})
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def keras_files():
    os.makedirs(KERAS_DIR, exist_ok=True)
    w = tiny_weights()
    x = tiny_input()
    z, p = tiny_forward(w, x)
    with open(os.path.join(KERAS_DIR, "tiny_expected.json"), "w") as f:
        json.dump({"input": x.reshape(-1).tolist(), "logits": z.tolist(), "probs": p.tolist()}, f, indent=1)
    keras3_weights(os.path.join(KERAS_DIR, "tiny.weights.h5"), w)
    keras3_weights(os.path.join(KERAS_DIR, "tiny_ckptdeps.weights.h5"), w, top="_layer_checkpoint_dependencies")
    # Keras 2 model.save_weights("x.h5") with split layer_names attributes.
    with h5py.File(os.path.join(KERAS_DIR, "tiny_keras2_split.h5"), "w") as f:
        keras2_weights_group(f, w, split=True)
    # Keras 2 model.save("x.h5"): model_config JSON plus model_weights.
    with h5py.File(os.path.join(KERAS_DIR, "tiny_keras2_model.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(keras2_model_config()).encode()
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        keras2_weights_group(f.create_group("model_weights"), w, split=False)
        f.create_group("optimizer_weights")
    # Keras 3 model.save("x.keras"): a zip of config.json, metadata.json and
    # model.weights.h5.
    tmp = os.path.join(KERAS_DIR, "model.weights.h5")
    keras3_weights(tmp, w)
    with zipfile.ZipFile(os.path.join(KERAS_DIR, "tiny.keras"), "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.4.1", "date_saved": "2024-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(keras3_config()))
        z.write(tmp, "model.weights.h5")
    os.remove(tmp)


if __name__ == "__main__":
    import sys
    what = sys.argv[1:] or ["hdf5", "keras"]
    if "hdf5" in what:
        hdf5_files()
    if "keras" in what:
        keras_files()
