#!/usr/bin/env python3
"""Writes the small seed inputs of the fuzz targets into Fuzz/seeds/<target>/ (committed).

Run once from the repository root: python3 Fuzz/make_seeds.py. Needs numpy. scripts/fuzz.sh
adds the test fixtures (Tests/RecurrentTests/Fixtures/*.npy, *.safetensors) at run time.
"""
import gzip, io, json, os, struct, zlib
import numpy as np

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def put(target, name, data):
    os.makedirs(os.path.join(root, target), exist_ok=True)
    with open(os.path.join(root, target, name), "wb") as f:
        f.write(data)


# --- safetensors: the reference layout (8-byte length, JSON padded to 8, data) -------------------
def safetensors(tensors, metadata=None):
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


put("SafeTensors", "empty", safetensors({}))
put("SafeTensors", "metadata-only", safetensors({}, {"format": "pt", "note": "\u00e9\n\"x\""}))
put("SafeTensors", "scalar-f32", safetensors({"s": ("F32", [], struct.pack("<f", 1.5))}))
put("SafeTensors", "dtypes", safetensors({
    "a": ("F64", [2], struct.pack("<2d", 1.0, -2.0)), "b": ("F16", [2], b"\x00\x3c\x00\xc0"),
    "c": ("BF16", [1], b"\x80\x3f"), "d": ("I64", [1], struct.pack("<q", -3)),
    "e": ("I32", [1], struct.pack("<i", 7)), "f": ("I16", [1], b"\x01\x00"), "g": ("I8", [1], b"\xff"),
    "h": ("U8", [2], b"\x01\x02"), "i": ("BOOL", [1], b"\x01"), "z": ("F32", [0, 3], b"")}))
put("SafeTensors", "extra-field", b"".join([struct.pack("<Q", 72),
    b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[[{"y":null}]]}}'.ljust(72), b"\x09"]))

# --- npy ------------------------------------------------------------------------------------------
def npy(array, **kwargs):
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


put("NumPy", "f4-2x3", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
put("NumPy", "i8-scalar", npy(np.int64(-5)))
put("NumPy", "u1-empty", npy(np.zeros((0, 4), dtype="u1")))
put("NumPy", "f8-big-endian", npy(np.arange(3, dtype=">f8")))
put("NumPy", "structured", npy(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4", (2,))])))
put("NumPy", "fortran", npy(np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))))
header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }".ljust(117) + b"\n"
put("NumPy", "v2-legacy-long", b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header + b"\0" * 8)


# --- IDX (raw), gzip, raw DEFLATE --------------------------------------------------------------------
def idx(code, dtype, shape, values):
    head = bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape)
    return head + np.asarray(values, dtype=dtype).tobytes()


idx_files = {
    "images-u1": idx(0x08, ">u1", [2, 3, 3], np.arange(18) % 256),
    "labels-u1": idx(0x08, ">u1", [5], [0, 1, 2, 9, 3]),
    "i1": idx(0x09, ">i1", [3], [-1, 0, 1]),
    "i2": idx(0x0B, ">i2", [2, 2], [-300, 2, 3, 4]),
    "i4": idx(0x0C, ">i4", [1, 2], [70000, -1]),
    "f4": idx(0x0D, ">f4", [2], [1.5, -0.0]),
    "f8": idx(0x0E, ">f8", [1, 1, 1], [3.25]),
}
for name, data in idx_files.items():
    put("IDX", name, data)
    put("Gzip", name + ".gz", gzip.compress(data, mtime=0))
put("Gzip", "raw-u1", idx_files["labels-u1"])
put("Gzip", "two-members.gz", gzip.compress(idx_files["images-u1"][:10], mtime=0) + gzip.compress(idx_files["images-u1"][10:], mtime=0))
named = io.BytesIO()
with gzip.GzipFile(filename="name.idx", mode="wb", fileobj=named, mtime=0) as f:
    f.write(idx_files["i2"])
put("Gzip", "with-name.gz", named.getvalue())
# Header with FEXTRA, FCOMMENT and FHCRC, written by hand (gzip.compress never sets them).
body = zlib.compressobj(9, zlib.DEFLATED, -15)
deflated = body.compress(idx_files["f4"]) + body.flush()
head = b"\x1f\x8b\x08" + bytes([0x04 | 0x10 | 0x02]) + b"\0\0\0\0\0\xff" + b"\x02\x00ab" + b"note\0"
head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
put("Gzip", "flags.gz", head + deflated + struct.pack("<II", zlib.crc32(idx_files["f4"]), len(idx_files["f4"])))
# A small bomb: a valid header for 10 bytes followed by far more (the bound stops it).
bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
data = bomb.compress(idx(0x08, ">u1", [10], [0] * 10))
data += bomb.compress(b"\0" * (1 << 20)) + bomb.flush()
put("Gzip", "bomb.gz", b"\x1f\x8b\x08\0\0\0\0\0\0\xff" + data + struct.pack("<II", 0, (18 + (1 << 20)) & 0xFFFFFFFF))

texts = [b"hello, world\n" * 3, "caf\u00e9 \u00fcber \u65e5\u672c\u8a9e \U0001F600".encode() * 4,
         bytes(range(256)), b"a" * 300 + bytes(range(0, 256, 3)) * 2]
for level in (0, 1, 6, 9):
    for k, text in enumerate(texts):
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        put("InflateDifferential", f"l{level}-{k}", c.compress(text) + c.flush())
fixed = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_FIXED)
put("InflateDifferential", "fixed", fixed.compress(texts[1]) + fixed.flush())
huffman = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_HUFFMAN_ONLY)
put("InflateDifferential", "huffman-only", huffman.compress(texts[3]) + huffman.flush())
put("InflateDifferential", "empty", b"\x03\x00")

# --- text ------------------------------------------------------------------------------------------
put("Text", "ascii", b"The quick brown fox jumps over the lazy dog.\n" * 2)
put("Text", "mixed", "\ufeffGr\u00fc\u00dfe, \u4e16\u754c! \u0645\u0631\u062d\u0628\u0627 \U0001F600\r\n".encode())
put("Text", "one-char", b"x")

# --- checkpoint metadata: configuration JSON \n activation \n readout \n cell ----------------------------
configs = [
    {"hiddenSize": 3, "readout": "last", "inputInit": {"gaussian": {"std": 0.001}}, "biasInit": {"zeros": {}},
     "activation": {"relu": {}}, "cell": "rnn", "inputSize": 2, "outputs": 1,
     "recurrentInit": {"identity": {"scale": 1}}, "layers": 1},
    {"layers": 1, "readout": "every", "recurrentInit": {"pytorchDefault": {}}, "hiddenSize": 3,
     "biasInit": {"pytorchDefault": {}}, "cell": "lstm", "outputs": 1, "activation": {"tanh": {}},
     "inputSize": 2, "inputInit": {"pytorchDefault": {}}, "forgetGateBias": 1},
    {"hiddenSize": 3, "inputSize": 2, "activation": {"leakyRelu": {"slope": 0.2}},
     "recurrentInit": {"gaussian": {"std": 0.1}}, "outputs": 1, "inputInit": {"pytorchDefault": {}},
     "layers": 1, "cell": "indrnn", "readout": "last", "biasInit": {"zeros": {}}, "recurrentBound": 2},
]
for k, config in enumerate(configs):
    put("CheckpointMetadata", f"config-{k}", (json.dumps(config, separators=(",", ":")) + "\nrelu\nlast\nrnn").encode())
put("CheckpointMetadata", "no-config", b"\nleaky_relu:0.1\nevery\ngru")

# --- spec parsers ----------------------------------------------------------------------------------
put("Specs", "valid", "\n".join([
    "relu", "leaky_relu:0.02", "clipped-relu:6", "identity:0.5", "gaussian:0.001", "xavier:2", "orthogonal",
    "step:1000:0.5", "cosine:1e-5", "irnn:lr=1e-4:hidden=32", "rnn-relu-gaussian:recurrent-init=gaussian:0.01",
    "lstm:hidden=128:forget-bias=1:optimizer=sgd"]).encode())
put("Specs", "one", b"indrnn:bound=2:activation=relu:layers=2")
