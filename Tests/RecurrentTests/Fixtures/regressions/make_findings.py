#!/usr/bin/env python3
"""Writes the reported findings as regression inputs, scaled to a committable size.

Run from this folder: python3 make_findings.py (standard library only). Each file goes to the
folder of the fuzz target whose entry point reads it; FuzzRegressionTests replays every file of
every folder, and ParserLimitsTests checks the exact errors. Crashing inputs found by fuzzing are
copied next to these by hand (their names start with crash-, oom- or timeout-).
"""
import json, os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(data)


# 1. A .npy header of 100 KB of '(' (the recursive parser overflowed the stack).
header = b"{'descr': '<f4', 'fortran_order': False, 'shape': " + b"(" * 100_000
header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
put("NumPy", "finding-nested-parentheses-100KB.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header)

# 2. A gzip bomb, scaled down: an IDX header for 10 bytes, then 8 MiB of zeros (8 KB compressed;
#    the reported one: 5 MB inflating to 5 GB).
compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
content_head = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10) + b"\0" * 10
stream = compressor.compress(content_head)
crc = zlib.crc32(content_head)
for _ in range(8):
    stream += compressor.compress(b"\0" * (1 << 20))
    crc = zlib.crc32(b"\0" * (1 << 20), crc)
stream += compressor.flush()
size = len(content_head) + (8 << 20)
put("Gzip", "finding-bomb-8MiB-declares-10-bytes.gz",
    b"\x1f\x8b\x08\0\0\0\0\0\0\xff" + stream + struct.pack("<II", crc, size & 0xFFFFFFFF))

# 3. A safetensors header of many empty tensors, scaled down (reported: 1.7 million entries, 3.7 GB).
entries = {f"t{k}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for k in range(2000)}
text = json.dumps(entries, separators=(",", ":")).encode()
text += b" " * ((8 - len(text) % 8) % 8)
put("SafeTensors", "finding-2000-empty-tensors.safetensors", struct.pack("<Q", len(text)) + text)

# 4. A text of more distinct characters than a vocabulary may hold (reported: every Unicode scalar).
scalars = [c for c in range(0x4E00, 0x4E00 + 20_000)]  # CJK ideographs: 20,000 distinct characters
put("Text", "finding-20000-distinct-characters.txt", "".join(map(chr, scalars)).encode())

# Found while writing the bounds: a DEFLATE stream whose literal/length code is incomplete (two
# 2-bit codes), which zlib refuses ("invalid literal/lengths set") and the decoder before this fix
# accepted (the InflateDifferential harness run against that decoder found the same class from the
# seeds in under 5 minutes: InflateDifferential/crash-7f7d3056....reject, kept as it was written);
# ModelSpec trapped converting hidden=1e300 to Int; a deeply nested configuration.
put("InflateDifferential", "finding-incomplete-literal-code.reject", bytes.fromhex("058081080000008058f7973804"))
put("Specs", "finding-hidden-1e300.txt",
    b"irnn:hidden=1e300\nirnn:layers=nan\nleaky_relu:nan\nstep:10:inf\nclipped_relu:-1\n" + b"identity:" + b"9" * 400)
put("CheckpointMetadata", "finding-deep-configuration.txt",
    ('{"a":' * 5000 + "1" + "}" * 5000 + "\nrelu\nlast\nrnn").encode())

# A raw IDX header announcing 2^31 x 16 bytes in a 15-byte file (refused as truncated, nothing allocated).
put("IDX", "huge-declared-shape", bytes([0, 0, 0x08, 2, 0x80, 0, 0, 0, 0, 0, 0, 16, 1, 2, 3]))
