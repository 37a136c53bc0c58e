#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into conformance/fuzz/corpus/<target>/.

Usage: conformance/fuzz/make_corpus.py PATH/TO/lowbit   (standard library only; deterministic)

It also writes golden_set/, the files of the set whose manifests are the golden_set target's seeds.

Valid seeds come from the lowbit tool (encode nf4/fp4/gse, pack qeft/owq) on small fixed inputs;
malformed ones are hand-made: each names the one thing wrong with it. Inputs the fuzzers found are
added by hand under names of their own (found-*) and are not touched by this script, which only
rewrites the files it makes itself (seed-*, bad-*)."""
import copy
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "golden")
rng = random.Random(20261124)


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, (bytes, bytearray)) else data.encode())


def clear(target):
    d = os.path.join(HERE, "corpus", target)
    if os.path.isdir(d):
        for n in os.listdir(d):
            if n.startswith(("seed-", "bad-")):
                os.remove(os.path.join(d, n))


def f32s(values):
    return struct.pack(f"<{len(values)}f", *values)


def randn(n, scale=1.0):
    return [rng.gauss(0.0, scale) for _ in range(n)]


def npy_file(header, data=b"", major=1, length=None, pad=True):
    h = header.encode() if isinstance(header, str) else header
    lb = 2 if major == 1 else 4
    if pad:
        h += b" " * ((64 - (8 + lb + len(h) + 1) % 64) % 64) + b"\n"
    n = len(h) if length is None else length
    return b"\x93NUMPY" + bytes([major, 0]) + n.to_bytes(lb, "little") + h + data


# ---- safetensors ---------------------------------------------------------------------------------

def st_file(header, buffer=b"", pad=True, length=None):
    """A .safetensors file with `header` (a dict, or JSON text as is) and the raw `buffer`."""
    text = header if isinstance(header, (str, bytes)) else json.dumps(header, separators=(",", ":"))
    text = text.encode() if isinstance(text, str) else text
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + buffer


def st_tensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] laid out in order."""
    header, buf = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(buf), len(buf) + len(data)]}
        buf += data
    return st_file(header, buf)


def brace_form(st):
    """The fuzz.hpp spelling of a .safetensors file: the JSON header, a NUL, the buffer."""
    (n,) = struct.unpack_from("<Q", st)
    return st[8:8 + n].rstrip(b" ") + b"\0" + st[8 + n:]


def read_st(st):
    """{name: [dtype, shape, bytes]} in buffer order, and the metadata."""
    (n,) = struct.unpack_from("<Q", st)
    header, buf = json.loads(st[8:8 + n]), st[8 + n:]
    metadata = header.pop("__metadata__", None)
    order = sorted(header, key=lambda k: header[k]["data_offsets"][0])
    return {k: [header[k]["dtype"], header[k]["shape"], buf[slice(*header[k]["data_offsets"])]] for k in order}, metadata


def edited(st, edit):
    """`st` rewritten after edit(tensors, metadata) changed the tensors or the metadata in place."""
    tensors, metadata = read_st(st)
    edit(tensors, metadata)
    return st_tensors([(k, *v) for k, v in tensors.items()], metadata)


def lowbit(tool, *args, stdin=None):
    subprocess.run([tool, *args], check=True, input=stdin)


def stream_corpus():
    """stream: [pick][chunk] then the input file (fuzz_stream.cpp): pick bits 0-2 the element, 3
    --bits-as-float, 4 a *.npy name, 5-6 the reader (0 chunks, 1 whole, 2 a .gse container, 3 any input).
    Containers are the gse_file and safetensors seeds, written first."""
    def corpus_file(target, name):
        with open(os.path.join(HERE, "corpus", target, name), "rb") as f:
            return f.read()
    f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }"
    for name, pick, chunk, body in [
            ("seed-raw-f32", 0, 3, f32s([0.37 * i - 1 for i in range(10)])), ("seed-raw-empty", 0, 0, b""), ("seed-raw-f16-whole", 2 | 32, 0, bytes(range(8))),
            ("seed-npy-f32-2x3", 16, 1, npy_file(f4 % "2, 3", f32s([1, -2, 3.5, 1e-40, 65504, -0.0]))), ("seed-npy-f32-empty", 16, 0, npy_file(f4 % "0,")),
            ("seed-npy-f32-scalar", 16, 0, npy_file(f4 % "", f32s([1.5]))),
            ("seed-npy-u4-bits", 8 | 16, 2, npy_file(f4.replace("<f4", "<u4") % "2,", struct.pack("<2I", 0x3F800000, 0x7FC00001))),
            ("seed-npy-i4-whole", 5 | 16 | 32, 0, npy_file(f4.replace("<f4", "<i4") % "3,", struct.pack("<3i", 1, -1, 7))),
            ("seed-npy-u1-codes", 4, 0, npy_file(f4.replace("<f4", "|u1") % "4,", bytes([0, 0x7E, 0x80, 0xFF]))),
            ("seed-gse-empty", 64, 0, corpus_file("gse_file", "seed-b8-g32-empty.gse")),
            ("seed-gse", 64, 0, corpus_file("gse_file", "seed-b4-g16-e8.gse")),
            ("seed-any-safetensors", 96, 0, corpus_file("safetensors", "seed-every-dtype.safetensors")),
            ("bad-raw-odd", 0, 0, b"\x01\x02\x03"), ("bad-npy-name-raw", 16, 0, f32s([1, 2])),
            ("bad-npy-u4-without-flag", 16, 0, npy_file(f4.replace("<f4", "<u4") % "1,", b"\0\0\x80\x3f")),
            ("bad-safetensors-as-values", 0, 0, corpus_file("safetensors", "seed-every-dtype.safetensors")),
            ("bad-raw-as-gse", 64, 0, f32s([1, 2]))]:
        put("stream", name, bytes([pick, chunk]) + body)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tool = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="lowbit-corpus-")
    path = lambda name: os.path.join(tmp, name)
    targets = ["safetensors", "gse_file", "gse_unpack", "bnb_quant_state", "bnb_checkpoint", "weak_checkpoint", "npy",
               "fp8_decode", "nf4_dequantize", "stream", "golden_set", "model_index"]
    for t in targets:
        clear(t)

    # -- NF4 / FP4 checkpoints from the tool
    nf4 = {}
    for name, fmt, n, block, dq in [("nf4-b64", "nf4", 200, 64, False), ("nf4-b64-dq", "nf4", 300, 64, True),
                                    ("fp4-b32-odd", "fp4", 77, 32, False), ("nf4-b32-dq-odd", "nf4", 1025, 32, True),
                                    ("nf4-empty", "nf4", 0, 64, False)]:
        with open(path("x.f32"), "wb") as f:
            f.write(f32s(randn(n)))
        lowbit(tool, "encode", fmt, "--block", str(block), *(["--double-quant"] if dq else []), "-i", path("x.f32"),
               "-o", path("w.safetensors"))
        nf4[name] = open(path("w.safetensors"), "rb").read()

    # -- QEFT / OWQ packed layers from the tool
    weak = {}
    for name, layout, oc, ic, weak_idx, extra in [
            ("qeft-8x64-k2", "qeft", 8, 64, [5, 40], ["--group", "32"]),
            ("qeft-8x128-k0-perchannel", "qeft", 8, 128, [], ["--group", "0"]),
            ("qeft-16x64-k1-mse", "qeft", 16, 64, [63], ["--group", "64", "--tuning", "mse", "--grid", "4"]),
            ("owq-4x32-b4-k1", "owq", 4, 32, [3], ["--bits", "4"]),
            ("owq-2x64-b3-k2", "owq", 2, 64, [0, 33], ["--bits", "3"]),
            ("owq-2x32-b4-k0-sym", "owq", 2, 32, [], ["--bits", "4", "--sym"])]:
        with open(path("w.safetensors"), "wb") as f:
            f.write(st_tensors([("weight", "F32", [oc, ic], f32s(randn(oc * ic, 0.05)))]))
        with open(path("idx.i32"), "wb") as f:
            f.write(struct.pack(f"<{len(weak_idx)}i", *weak_idx))
        lowbit(tool, "encode", layout, *extra, "--weak-idx", path("idx.i32"), "-i", path("w.safetensors"), "-o",
               path("p.safetensors"))
        weak[name] = open(path("p.safetensors"), "rb").read()

    # ---- safetensors: valid
    put("safetensors", "seed-nf4.safetensors", nf4["nf4-b64"])
    put("safetensors", "seed-nf4-dq.safetensors", nf4["nf4-b64-dq"])
    put("safetensors", "seed-qeft.safetensors", weak["qeft-8x64-k2"])
    put("safetensors", "seed-owq.safetensors", weak["owq-2x64-b3-k2"])
    put("safetensors", "seed-empty.safetensors", st_file({}))
    put("safetensors", "seed-metadata-only.safetensors", st_file({"__metadata__": {"format": "pt", "k\u00e9y": "\u2603"}}))
    put("safetensors", "seed-every-dtype.safetensors", st_tensors([
        ("b", "BOOL", [2], b"\x00\x01"), ("f4", "F4", [2, 2], b"\x12\x34"), ("f6a", "F6_E2M3", [4], b"\x01\x02\x03"),
        ("f6b", "F6_E3M2", [4], b"\x04\x05\x06"), ("u8", "U8", [], b"\x07"), ("i8", "I8", [1], b"\xff"),
        ("e5", "F8_E5M2", [1], b"\x3c"), ("e4", "F8_E4M3", [1], b"\x38"), ("e8", "F8_E8M0", [1], b"\x7f"),
        ("i16", "I16", [1], b"\x01\x80"), ("u16", "U16", [1], b"\xff\xff"), ("f16", "F16", [1], b"\x00\x3c"),
        ("bf16", "BF16", [1], b"\x80\x3f"), ("i32", "I32", [1], b"\x01\x00\x00\x80"), ("u32", "U32", [1], b"\xff" * 4),
        ("f32", "F32", [1], f32s([1.5])), ("c64", "C64", [1], f32s([1.0, -1.0])), ("f64", "F64", [1], struct.pack("<d", 2.5)),
        ("i64", "I64", [1], struct.pack("<q", -3)), ("u64", "U64", [1], struct.pack("<Q", 3)),
        ("empty", "F32", [0, 1000000], b"")]))
    put("safetensors", "seed-escaped-names.safetensors",
        st_file('{"a\\u00e9\\ud83d\\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"\\"q\\"":'
                '{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"\x01\x02"))
    # ---- safetensors: malformed
    ok = {"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    put("safetensors", "bad-short", b"\x05\x00\x00")
    put("safetensors", "bad-length-huge", st_file(ok, f32s([1, 2]), length=2**64 - 1))
    put("safetensors", "bad-length-past-end", st_file(ok, f32s([1, 2]), length=4096))
    put("safetensors", "bad-length-above-limit", st_file(ok, f32s([1, 2]), length=100_000_001))
    put("safetensors", "bad-utf8", st_file(b'{"\xc3\x28":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'))
    put("safetensors", "bad-nul", st_file(b'{"a\x00":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'))
    put("safetensors", "bad-not-object", st_file("[1,2]"))
    put("safetensors", "bad-not-json", st_file('{"t":{"dtype":"F32",'))
    put("safetensors", "bad-duplicate", st_file('{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                               '"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x00"))
    put("safetensors", "bad-unknown-field", st_file({"t": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1], "x": 1}}, b"\x00"))
    put("safetensors", "bad-dtype", st_file({"t": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, b"\x00" * 16))
    put("safetensors", "bad-shape-negative", st_file({"t": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}}, b"\x00"))
    put("safetensors", "bad-shape-float", st_file({"t": {"dtype": "U8", "shape": [1.0], "data_offsets": [0, 1]}}, b"\x00"))
    put("safetensors", "bad-shape-overflow", st_file({"t": {"dtype": "F32", "shape": [2**32, 2**32, 16], "data_offsets": [0, 0]}}))
    put("safetensors", "bad-bits-overflow", st_file({"t": {"dtype": "F64", "shape": [2**62], "data_offsets": [0, 0]}}))
    put("safetensors", "bad-subbyte", st_file({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}, b"\x00\x00"))
    put("safetensors", "bad-offsets-reversed", st_file({"t": {"dtype": "U8", "shape": [0], "data_offsets": [1, 0]}}, b"\x00"))
    put("safetensors", "bad-offsets-outside", st_file({"t": {"dtype": "U8", "shape": [8], "data_offsets": [2**64 - 8, 2**64 - 1]}}, b"\x00"))
    put("safetensors", "bad-offsets-huge", st_file({"t": {"dtype": "U8", "shape": [2**40], "data_offsets": [0, 2**40]}}, b"\x00"))
    put("safetensors", "bad-overlap", st_file({"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
                                               "b": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}}, b"\x00" * 3))
    put("safetensors", "bad-gap", st_file({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}, b"\x00" * 2))
    put("safetensors", "bad-trailing", st_file(ok, f32s([1, 2]) + b"\x00"))
    put("safetensors", "bad-metadata", st_file({"__metadata__": {"a": 1}}))
    put("safetensors", "bad-deep-shape", st_file('{"t":{"dtype":"U8","shape":' + "[" * 130 + "]" * 130 +
                                                 ',"data_offsets":[0,0]}}'))
    put("safetensors", "bad-deep-metadata", st_file('{"__metadata__":{"a":' + "[" * 130 + "]" * 130 + '}}'))

    # ---- bnb_checkpoint
    for name in ["nf4-b64", "nf4-b64-dq", "fp4-b32-odd", "nf4-b32-dq-odd", "nf4-empty"]:
        put("bnb_checkpoint", f"seed-{name}", brace_form(nf4[name]))
    put("bnb_checkpoint", "seed-nf4-b64-raw.safetensors", nf4["nf4-b64"])
    dq = nf4["nf4-b64-dq"]
    qs_name = "weight.quant_state.bitsandbytes__nf4"

    def quant_state(edit):
        def apply(t, m):
            q = json.loads(t[qs_name][2])
            edit(q)
            t[qs_name][2] = json.dumps(q).encode()
            t[qs_name][1] = [len(t[qs_name][2])]
        return apply
    for bad_name, edit in [
            ("bad-missing-quant-map", lambda t, m: t.pop("weight.quant_map")),
            ("bad-unknown-field", lambda t, m: t.__setitem__("weight.extra", t.pop("weight.quant_map"))),
            ("bad-weight-dtype", lambda t, m: t["weight"].__setitem__(0, "I8")),
            ("bad-weight-shape", lambda t, m: t["weight"].__setitem__(1, t["weight"][1][::-1])),
            ("bad-absmax-dtype", lambda t, m: t["weight.absmax"].__setitem__(0, "I8")),
            ("bad-not-nested", lambda t, m: t.pop("weight.nested_absmax")),
            ("bad-two-quant-states", lambda t, m: t.__setitem__("weight.quant_state.bitsandbytes__fp4", t[qs_name])),
            ("bad-quant-state-not-json", lambda t, m: t.__setitem__(qs_name, ["U8", [len(t[qs_name][2]) - 1], t[qs_name][2][:-1]])),
            ("bad-qs-shape", quant_state(lambda q: q.__setitem__("shape", [2**33, 2**33]))),
            ("bad-qs-blocksize", quant_state(lambda q: q.__setitem__("blocksize", 2**32 + 64))),
            ("bad-qs-nested-blocksize", quant_state(lambda q: q.__setitem__("nested_blocksize", 1))),
            ("bad-qs-type", quant_state(lambda q: q.__setitem__("quant_type", "fp4"))),
            ("bad-qs-not-nested", quant_state(lambda q: [q.pop(k) for k in ("nested_blocksize", "nested_dtype", "nested_offset")]))]:
        put("bnb_checkpoint", bad_name, brace_form(edited(dq, edit)))

    # ---- bnb_quant_state
    for name in ["divmul.bnbcpu.quant_state.json", "divmul.bnbcpu.dq.quant_state.json", "edge.bnbcpu.dq.quant_state.json"]:
        put("bnb_quant_state", "seed-golden-" + name.replace(".quant_state.json", ""), open(os.path.join(GOLDEN, "nf4", name), "rb").read())
    base = '"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": [4096, 11008]'
    nested = ', "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": '
    for name, offset in [("nan", "NaN"), ("inf", "Infinity"), ("neg-inf", "-Infinity"), ("tiny", "1e-45"),
                         ("big", "1e+300"), ("neg-zero", "-0.0"), ("exp", "1.5E-3")]:
        put("bnb_quant_state", f"seed-offset-{name}", "{" + base + nested + offset + "}")
    put("bnb_quant_state", "seed-fp4-reordered", '{ "shape" : [ ] ,"dtype":"float16","blocksize":4096,"quant_type":"fp4"}\n')
    for name, text in [("bad-empty", ""), ("bad-nul", '{"quant_type": "nf4\0"}'), ("bad-array", "[]"),
                       ("bad-unknown-field", "{" + base + ', "x": 1}'), ("bad-missing-shape", '{"quant_type": "nf4", "blocksize": 64, "dtype": "float32"}'),
                       ("bad-type", "{" + base.replace("nf4", "int8") + "}"), ("bad-blocksize-0", "{" + base.replace("64", "0") + "}"),
                       ("bad-blocksize-negative", "{" + base.replace("64", "-64") + "}"),
                       ("bad-dtype", "{" + base.replace('"bfloat16"', '"torch.bfloat16"') + "}"),
                       ("bad-nested-partial", "{" + base + ', "nested_blocksize": 256}'),
                       ("bad-offset-string", "{" + base + nested + '"NaN"}'),
                       ("bad-nan-in-string", '{"quant_type": "NaN", "blocksize": NaN, "dtype": "Infinity", "shape": [-Infinity]}'),
                       ("bad-deep-shape", '{"quant_type": "nf4", "blocksize": 64, "dtype": "x", "shape": [' + "[" * 200 + "]" * 200 + "]}"),
                       ("bad-truncated", "{" + base[:30])]:
        put("bnb_quant_state", name, text)

    # ---- weak_checkpoint
    for name, data in weak.items():
        put("weak_checkpoint", f"seed-{name}", brace_form(data))
    put("weak_checkpoint", "seed-qeft-8x64-k2-raw.safetensors", weak["qeft-8x64-k2"])
    put("weak_checkpoint", "seed-owq-no-metadata", brace_form(edited(weak["owq-4x32-b4-k1"], lambda t, m: m.clear())))
    put("weak_checkpoint", "seed-qeft-no-metadata", brace_form(edited(weak["qeft-8x64-k2"], lambda t, m: m.clear())))
    for bad_name, edit in [("bad-qeft-layout", lambda t, m: m.__setitem__("lowbit.layout", "owq")),
                           ("bad-qeft-meta-number", lambda t, m: m.__setitem__("lowbit.in_features", "64x")),
                           ("bad-qeft-meta-disagrees", lambda t, m: m.__setitem__("lowbit.group_size", "64")),
                           ("bad-qeft-no-scales", lambda t, m: t.pop("scales")),
                           ("bad-qeft-qweight-rank", lambda t, m: t["qweight"].__setitem__(1, [2 * 64])),
                           ("bad-qeft-outlieridx-order", lambda t, m: t["outlieridx"].__setitem__(2, t["outlieridx"][2][4:] + t["outlieridx"][2][:4])),
                           ("bad-qeft-interleaved", lambda t, m: t["oweight_interleaved"].__setitem__(2, bytes(len(t["oweight_interleaved"][2]))))]:
        put("weak_checkpoint", bad_name, brace_form(edited(weak["qeft-8x64-k2"], edit)))
    for bad_name, edit in [("bad-owq-bits", lambda t, m: m.__setitem__("lowbit.bits", "5")),
                           ("bad-owq-outlieridx-range", lambda t, m: t["outlieridx"].__setitem__(2, struct.pack("<2i", 0, 64))),
                           ("bad-owq-bias", lambda t, m: t["bias"].__setitem__(1, [1, 2])),
                           ("bad-owq-zeros-shape", lambda t, m: t["zeros"].__setitem__(1, [1]))]:
        put("weak_checkpoint", bad_name, brace_form(edited(weak["owq-2x64-b3-k2"], edit)))
    # Lying shapes over empty buffers: OC = 0 with a huge IC, k larger than IC.
    put("weak_checkpoint", "bad-qeft-zero-oc", brace_form(st_tensors([
        ("qweight", "I16", [0, 2**62], b""), ("scales", "F16", [1, 0], b""), ("scaled_zeros", "F16", [1, 0], b""),
        ("oweight", "F16", [0, 2**61], b""), ("oweight_interleaved", "F16", [0, 2**62], b""), ("outlieridx", "I32", [0], b"")])))
    put("weak_checkpoint", "bad-owq-zero-oc", brace_form(st_tensors([
        ("qweight", "I32", [2**60, 0], b""), ("scales", "F16", [0, 1], b""), ("zeros", "U8", [0, 1], b""),
        ("oweight", "F16", [2**40, 0], b""), ("outlieridx", "I32", [0], b"")], {"lowbit.layout": "owq", "lowbit.bits": "4"})))

    # ---- gse_file
    gse = {}
    for name, n, args in [("b8-g32-e5", 100, ["--bits", "8", "--group", "32"]),
                          ("b4-g16-e8", 50, ["--bits", "4", "--group", "16", "--exp-bits", "8"]),
                          ("b5-g256-sr", 300, ["--bits", "5", "--group", "256", "--rounding", "sr", "--seed", "7"]),
                          ("b6-g64-offset", 70, ["--bits", "6", "--group", "64", "--exp-bias", "3", "--exp-offset", "-20"]),
                          ("b7-g128-one", 1, ["--bits", "7", "--group", "128"]),
                          ("b8-g32-empty", 0, ["--bits", "8", "--group", "32"])]:
        with open(path("x.f32"), "wb") as f:
            f.write(f32s([v * 2.0 ** rng.randint(-30, 30) for v in randn(n)] + ([float("nan")] if n > 64 else [])))
        lowbit(tool, "encode", "gse", *args, "-i", path("x.f32"), "-o", path("x.gse"))
        gse[name] = open(path("x.gse"), "rb").read()
        put("gse_file", f"seed-{name}.gse", gse[name])
    g = bytearray(gse["b8-g32-e5"])
    for bad_name, at, value in [("bad-magic", 0, b"LBGX"), ("bad-version", 4, b"\x02"), ("bad-bits", 5, b"\x09"),
                                ("bad-exp-bits", 6, b"\x06"), ("bad-flags", 7, b"\x04"), ("bad-group", 8, b"\x30\x00"),
                                ("bad-bias", 10, b"\x1f\x00"), ("bad-offset", 12, b"\x65\x00"), ("bad-rounding", 14, b"\x04"),
                                ("bad-n-huge", 16, struct.pack("<Q", 2**64 - 1)), ("bad-n-large", 16, struct.pack("<Q", 2**61)),
                                ("bad-n-off-by-one", 16, struct.pack("<Q", 101))]:
        b = bytearray(g)
        b[at:at + len(value)] = value
        put("gse_file", bad_name, bytes(b))
    b = bytearray(g)  # group 0: a 5-bit exponent (payload bits 0..4), then code 0 (bits 5..12) := 0x80 = -128
    b[32:34] = bytes([b[32] & 0x1F, 0x10 | b[33] & 0xE0])
    put("gse_file", "bad-unused-code", bytes(b))
    put("gse_file", "bad-short-header", g[:31])
    put("gse_file", "bad-payload-short", g[:-1])
    put("gse_file", "bad-payload-long", g + b"\x00")

    # ---- gse_unpack: [bits][group][exp_bits, flags][bias][offset][n mode][n lo][n hi] payload
    for i in range(8):
        head = bytes([i % 5, i % 5, i & 7, rng.randrange(256), rng.randrange(256), 0, 0, 0])
        put("gse_unpack", f"seed-fit-{i}", head + bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
    put("gse_unpack", "seed-explicit-n", bytes([4, 1, 0, 15, 100, 1, 33, 0]) + bytes(rng.randrange(256) for _ in range(36)))
    put("gse_unpack", "seed-zeros", bytes(8) + bytes(64))
    put("gse_unpack", "bad-explicit-n-wrong", bytes([4, 1, 0, 15, 100, 1, 255, 255]) + bytes(40))
    put("gse_unpack", "bad-unused-code", bytes([4, 1, 0, 15, 100, 0, 0, 0]) + bytes([0x00, 0x10]) + bytes(30))

    # ---- npy: hand-made (numpy's layout: magic, version, header length, dict literal padded to 64, data)
    for name, descr, shape, data in [("f4-3", "<f4", "(3,)", f32s([1, -2, 3.5])), ("u1-2x3", "|u1", "(2, 3)", bytes(range(6))),
                                     ("f8-scalar", "<f8", "()", struct.pack("<d", 0.1)), ("i2-empty", "<i2", "(0, 5)", b""),
                                     ("f2-2", "<f2", "(2,)", b"\x00\x3c\x00\xbc"), ("i1-alias", "<i1", "(1,)", b"\xff"),
                                     ("u4-1x1x1", "<u4", "(1,1,1)", b"\x01\x02\x03\x04")]:
        put("npy", f"seed-{name}.npy", npy_file(f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}", data))
    put("npy", "seed-v2.npy", npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", struct.pack("<2i", 1, -1), major=2))
    put("npy", "seed-v3-utf8.npy", npy_file("{\"descr\": \"<u2\", \"shape\": (1,), \"fortran_order\": False}", b"\x01\x00", major=3))
    ok_npy = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    for name, data in [("bad-magic", b"\x93NUMPX\x01\x00" + npy_file(ok_npy, f32s([1, 2]))[8:]),
                       ("bad-version", npy_file(ok_npy, f32s([1, 2]), major=4)),
                       ("bad-short", b"\x93NUMPY\x01"),
                       ("bad-length-lies", npy_file(ok_npy, f32s([1, 2]), major=2, length=2**32 - 1)),
                       ("bad-no-newline", npy_file(ok_npy.encode() + b" ", f32s([1, 2]), pad=False)),
                       ("bad-fortran", npy_file(ok_npy.replace("False", "True"), f32s([1, 2]))),
                       ("bad-big-endian", npy_file(ok_npy.replace("<f4", ">f4"), f32s([1, 2]))),
                       ("bad-object", npy_file(ok_npy.replace("<f4", "|O"), f32s([1, 2]))),
                       ("bad-shape-overflow", npy_file(ok_npy.replace("(2,)", "(4294967296, 4294967296, 2)"))),
                       ("bad-shape-huge-digit", npy_file(ok_npy.replace("(2,)", "(" + "9" * 30 + ",)"))),
                       ("bad-shape-negative", npy_file(ok_npy.replace("(2,)", "(-2,)"))),
                       ("bad-shape-no-comma", npy_file(ok_npy.replace("(2,)", "(2)"), f32s([1, 2]))),
                       ("bad-data-short", npy_file(ok_npy, f32s([1]))),
                       ("bad-data-long", npy_file(ok_npy, f32s([1, 2, 3]))),
                       ("bad-duplicate-key", npy_file(ok_npy.replace("}", "'descr': '<f4', }"), f32s([1, 2]))),
                       ("bad-unknown-key", npy_file(ok_npy.replace("}", "'x': 1, }"), f32s([1, 2]))),
                       ("bad-not-ascii-v1", npy_file(ok_npy.replace("descr", "d\u00e9scr"), f32s([1, 2])))]:
        put("npy", name, data)

    stream_corpus()

    # ---- fp8_decode: [format + profile] codes...
    for pick in range(8):
        put("fp8_decode", f"seed-all-codes-{pick}", bytes([pick]) + bytes(range(256)))
    put("fp8_decode", "seed-short", b"\x01\x7f\x80\xff")

    # ---- nf4_dequantize: [table, profile, double quant][block][n lo][n hi] packed absmax...
    for i, (pick, block, n) in enumerate([(0, 1, 200), (1, 0, 77), (0x82, 3, 1000), (0x85, 0, 33), (6, 7, 5000)]):
        packed = bytes(rng.randrange(256) for _ in range((n + 1) // 2))
        b = -(-n // (32 << block))
        if pick & 0x80:
            tail = bytes(rng.randrange(256) for _ in range(b)) + f32s([abs(v) for v in randn(-(-b // 256))]) + f32s([0.01])
        else:
            tail = f32s([abs(v) for v in randn(b)])
        put("nf4_dequantize", f"seed-{i}", bytes([pick, block]) + struct.pack("<H", n) + packed + tail)
    put("nf4_dequantize", "seed-nested-offset-missing", bytes.fromhex("b81e00043f783e"))  # input ends inside the header
    put("nf4_dequantize", "seed-special-absmax", bytes([0, 0, 64, 0]) + bytes(range(32)) +
        struct.pack("<2I", 0x7FC00001, 0xFF800000))

    golden_set(tool, path)
    model_index(nf4["nf4-b64-dq"], weak["qeft-8x64-k2"])


def model_index(nf4_dq, qeft):
    """model_index: a checkpoint folder's files joined by SEPARATOR (fuzz_model_index.cpp): the index and
    two shards, or one model.safetensors. The model: a double-quantized bnb weight, a QEFT layer, an fp8
    weight with its scale and a plain norm, over the two shards."""
    sep = b"\n--lowbit-fuzz-file--\n"
    shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    bnb, _ = read_st(nf4_dq)
    weak, weak_meta = read_st(qeft)
    up = "model.layers.0.mlp.up_proj."
    first = [(up + k, *v) for k, v in bnb.items()] + [("model.norm.weight", "F32", [4], f32s([1, 0.5, -2, 0]))]
    second = [("model.layers.0.self_attn.q_proj." + k, *v) for k, v in weak.items()] + [
        ("model.layers.0.self_attn.k_proj.weight", "F8_E4M3", [2, 4], bytes(range(0x30, 0x38))),
        ("model.layers.0.self_attn.k_proj.weight_scale", "F32", [2, 1], f32s([0.5, 0.25]))]

    def folder(index, tensors=(first, second), metadata=(None, weak_meta), raw=False):
        files = [st_tensors(list(t), m) for t, m in zip(tensors, metadata)]
        text = index if isinstance(index, (str, bytes)) else json.dumps(index, indent=2)
        return sep.join([text.encode() if isinstance(text, str) else text] + [f if raw else brace_form(f) for f in files])

    def index(tensors=(first, second), names=shards):
        size = sum(len(t[3]) for part in tensors for t in part)
        return {"metadata": {"total_size": size}, "weight_map": {t[0]: n for part, n in zip(tensors, names) for t in part}}

    put("model_index", "seed-sharded", folder(index()))
    put("model_index", "seed-sharded-raw", folder(index(), raw=True))
    put("model_index", "seed-one-shard", folder(index((first + second,), shards[:1]), (first + second,), (weak_meta,)))
    put("model_index", "seed-single-file", brace_form(st_tensors(first + second, weak_meta)))
    moved = index()
    moved["weight_map"]["model.norm.weight"] = shards[1]
    unlisted = index()
    del unlisted["weight_map"]["model.norm.weight"]
    missing = index()
    missing["weight_map"]["model.norm.weight"] = "model-00003-of-00003.safetensors"
    outside = index()
    outside["weight_map"]["model.norm.weight"] = "../" + shards[0]
    for name, text in [("bad-index-not-json", '{"weight_map": {'), ("bad-index-not-object", "[]"),
                       ("bad-index-no-weight-map", {"metadata": {}}), ("bad-index-tensor-elsewhere", moved),
                       ("bad-index-unlisted-tensor", unlisted), ("bad-index-missing-shard", missing),
                       ("bad-index-outside-folder", outside)]:
        put("model_index", name, folder(text))
    put("model_index", "bad-shard-truncated", folder(index(), raw=True)[:-3])
    no_nested = [t for t in first if not t[0].endswith("nested_absmax")]
    put("model_index", "bad-bnb-without-nested-absmax", folder(index((no_nested, second)), (no_nested, second)))
    bad_scale = second[:-1] + [("model.layers.0.self_attn.k_proj.weight_scale", "F32", [3], f32s([1, 2, 3]))]
    put("model_index", "bad-fp8-scale-shape", folder(index((first, bad_scale)), (first, bad_scale)))


def golden_set(tool, path):
    """golden_set: manifests (the input) of one gen set, whose files are golden_set/ beside this script."""
    made = {}
    for container in ["npy", "safetensors"]:
        lowbit(tool, "gen", "e5m2", "--level", "boundary", "--container", container, "-o", path("golden-" + container))
        made[container] = path("golden-" + container)
    files = os.path.join(HERE, "golden_set")
    shutil.rmtree(files, ignore_errors=True)
    os.makedirs(files)
    manifests = {}
    for container, d in made.items():
        for name in sorted(os.listdir(d)):
            if name != "manifest.json":
                shutil.copy(os.path.join(d, name), files)
        with open(os.path.join(d, "manifest.json")) as f:
            text = f.read()
        manifests[container] = json.loads(text)
        put("golden_set", "seed-" + container, text)  # as gen wrote it

    def bad(name, edit, container="npy"):
        m = copy.deepcopy(manifests[container])
        text = edit(m)
        put("golden_set", "bad-" + name, text if isinstance(text, str) else json.dumps(m, indent=2))

    def deep(m):
        m["tests"][0]["deep"] = "DEEP"
        return json.dumps(m).replace('"DEEP"', "[" * 64 + "]" * 64)

    def rename(old, new):
        return lambda m: m["files"].__setitem__(new, m["files"].pop(old))

    test = lambda key, value: lambda m: m["tests"][0].__setitem__(key, value)
    # Tolerance mode: decode_expected (f32 bits, one per decode output) read as the bounds of decode.
    m = copy.deepcopy(manifests["npy"])
    m["tests"][1]["tolerance"] = "decode_expected"
    put("golden_set", "seed-tolerance", json.dumps(m, indent=2))
    bad("deep-test-field", deep)
    bad("not-an-object", lambda m: "[]")
    bad("shape-2-62", lambda m: m["arrays"]["expected"].__setitem__("shape", [2**62]))
    bad("dtype-not-the-file", lambda m: m["arrays"]["expected"].__setitem__("dtype", "<u4"))
    bad("file-named-empty", rename("expected.npy", ""))
    bad("file-named-dot", rename("expected.npy", "."))
    bad("file-named-dotdot", rename("expected.npy", ".."))
    bad("file-bytes-short", lambda m: m["files"]["expected.npy"].__setitem__("bytes", m["files"]["expected.npy"]["bytes"] - 1))
    bad("file-sha256", lambda m: m["files"]["expected.npy"].__setitem__("sha256", "0" * 64))
    bad("kind-number", lambda m: m.__setitem__("kind", 8))
    bad("tests-not-objects", lambda m: m.__setitem__("tests", [7]))
    bad("order-unknown", test("order", "sign-magnitude-5"))
    bad("test-names-no-array", test("expected", "nothing"))
    bad("class-out-of-range", test("class_names", ["exact"]))
    bad("tolerance-not-f32", test("tolerance", "classes"))
    bad("no-container-file", lambda m: m.__setitem__("files", {}), "safetensors")


if __name__ == "__main__":
    main()
