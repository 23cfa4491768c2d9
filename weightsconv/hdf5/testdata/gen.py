#!/usr/bin/python3
"""Generate the small HDF5 test files of weightsconv/hdf5.

Run from this directory with Debian's python3 (apt-get install python3-h5py
hdf5-tools):  /usr/bin/python3 gen.py

Every value is arange-based so the Go tests can recompute it; the tests in
hdf5_test.go state the same formulas. Outputs are committed; rerun only when
the set of files changes (HDF5 output is deterministic for fixed inputs,
except for timestamps, which h5py disables by default for datasets).
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


if __name__ == "__main__":
    basic()
    latest()
    many_links()
