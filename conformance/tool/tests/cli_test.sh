#!/usr/bin/env bash
# End-to-end checks of the lowbit tool: every verb of every family, each exit status (0 success,
# 1 mismatches, 2 usage or input error: one line on stderr, no output file left behind), the bugs a
# new user found, --version and each command's own --help, and every command the docs show (README.md,
# docs/conformance.md, docs/vendor-abi.md), run as written.
# Usage: cli_test.sh LOWBIT GOLDEN_DIR [EMULATOR...]
# $LOWBIT_TEST_PLUGINS: the folder of the example plugins (conform --plugin); under an emulator the
# plugin runs are --in-process (qemu-user hangs forked children).
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") golden=$2
shift 2
emu=("$@")
root=$(cd "$golden/../.." && pwd)
plugins=${LOWBIT_TEST_PLUGINS:+$(cd "$LOWBIT_TEST_PLUGINS" && pwd)}
in_process=()
[ ${#emu[@]} -gt 0 ] && in_process=(--in-process)
run() { "${emu[@]}" "$bin" "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect STATUS NAME [SUBSTRING] -- ARGS...: the exit status; for 2, one line on stderr holding SUBSTRING.
expect() {
  local want=$1 name=$2 text=""
  shift 2
  if [ "$1" != "--" ]; then text=$1; shift; fi
  shift
  run "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  if [ $rc -ne "$want" ]; then bad "$name: exit $rc, expected $want: $(head -c 300 "$tmp/err")"; return; fi
  if [ "$want" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "$name: stderr is not one line: $(cat "$tmp/err")"; return; fi
  if [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/err" "$tmp/out"; then bad "$name: output lacks '$text': $(head -c 300 "$tmp/err")"; return; fi
  ok
}
# npy DESCR SHAPE RAW OUT: the raw bytes RAW as a .npy array of dtype DESCR and shape SHAPE ("7, 51" or "357,").
npy() {
  local dict="{'descr': '$1', 'fortran_order': False, 'shape': ($2), }" pad len
  pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
  dict="$dict$(printf '%*s' "$pad" '')"
  len=$(( ${#dict} + 1 ))
  { printf '\x93NUMPY\x01\x00'; printf "$(printf '\\x%02x\\x%02x' $((len & 255)) $((len >> 8)))"; printf '%s\n' "$dict"; cat "$3"; } >"$4"
}
# st_f32 RAW OC IC OUT: a .safetensors holding RAW as the F32 tensor 'weight' [OC, IC]
st_f32() {  # RAW ROWS COLS OUT [NAME]: one F32 tensor NAME (default 'weight')
  local n hdr
  n=$(wc -c <"$1")
  hdr=$(printf '{"%s":{"dtype":"F32","shape":[%d,%d],"data_offsets":[0,%d]}}' "${5:-weight}" "$2" "$3" "$n")
  while [ $(( ${#hdr} % 8 )) -ne 0 ]; do hdr="$hdr "; done
  { printf "$(printf '\\x%02x' $((${#hdr} & 255)) $(((${#hdr} >> 8) & 255)) 0 0 0 0 0 0)"; printf '%s' "$hdr"; cat "$1"; } >"$4"
}
# quant_state FILE: the quant_state JSON of a bitsandbytes .safetensors
quant_state() { grep -a -o '{"quant_type[^}]*}' "$1"; }

# Inputs: 1280 finite floats, their .npy, and all 2^16 f16 patterns.
od -An -v -tu1 "$golden/fp8/f32_to_e4m3fn.runs" | tr -s ' ' '\n' | grep -v '^$' |
  awk '{ printf "%c%c%c%c", 0, $1 % 128, 0, 60 + $1 % 8 }' >"$tmp/x.f32"
npy '<f4' '1280,' "$tmp/x.f32" "$tmp/x.npy"
run sweep e4m3 --from f16 -o "$tmp/whole"  # also the 2^16 e4m3 codes
LC_ALL=C awk 'BEGIN { for (i = 0; i < 65536; ++i) printf "%c%c", i % 256, int(i / 256) }' </dev/null >"$tmp/f16in"

# ---- --version and each command's own --help
run --version >"$tmp/v" && grep -q "^lowbit [0-9]" "$tmp/v" && grep -q "reference .* kernels" "$tmp/v" && ok || bad "--version"
run encode --help >"$tmp/h" && for f in e4m3 e5m2 gse mxfp8-e4m3 nf4 fp4 qeft owq; do grep -q "^  $f" "$tmp/h" || bad "encode --help lacks $f"; done
run encode gse --help >"$tmp/h" && grep -q -- "--exp-bits" "$tmp/h" && ! grep -q -- "--block\|--profile\|--double-quant" "$tmp/h" &&
  ok || bad "encode gse --help shows GSE's options only"
run encode nf4 --help >"$tmp/h" && grep -q -- "--double-quant" "$tmp/h" && ! grep -q -- "--exp-bits\|--rounding" "$tmp/h" &&
  ok || bad "encode nf4 --help shows NF4's options only"
run sweep e4m3 --help >"$tmp/h" && grep -q -- "--shard" "$tmp/h" && ! grep -q -- "-i,--input\|\.npy" "$tmp/h" &&
  ok || bad "sweep --help describes sweep's own options"
run quantize mxfp8-e4m3 --help | grep -q "nearest" && ok || bad "quantize mx --help lists microxcaling's roundings"
run conform --help | grep -q -- "--plugin" && ok || bad "conform --help"
expect 2 "unknown command" "unknown command 'pack'" -- pack qeft
expect 2 "unknown format" "unknown format 'e9m9' for encode" -- encode e9m9 --from f32
expect 2 "no format" "encode needs a format" -- encode --from f32
expect 2 "no command" "a command is needed (valid: encode, decode" --

# ---- FP8: sweeps of the 16-bit inputs equal the golden tables byte for byte
for spec in "e4m3 f16 ml_dtypes f16_to_e4m3fn" "e5m2 bf16 ml_dtypes bf16_to_e5m2" \
            "e4m3 bf16 cuda-satfinite cuda_satfinite_bf16_to_e4m3" "e5m2 f16 ml_dtypes-sat mld_sat_f16_to_e5m2" \
            "e5m2 f16 cuda-nosat cuda_nosat_f16_to_e5m2"; do
  set -- $spec
  run sweep "$1" --from "$2" --profile "$3" -o "$tmp/sweep" && cmp -s "$tmp/sweep" "$golden/fp8/$4.u8" && ok || bad "sweep $spec"
done
: >"$tmp/joined"
for i in 0 1 2; do run sweep e4m3 --from f16 --shard "$i/3" >>"$tmp/joined"; done
cmp -s "$tmp/whole" "$tmp/joined" && ok || bad "shards 0..2 of 3 differ from the whole sweep"
run sweep e4m3 --from f16 --impl reference -o "$tmp/sweep" && cmp -s "$tmp/sweep" "$tmp/whole" && ok || bad "sweep --impl reference"
expect 2 "sweep --impl unknown" "unknown implementation 'sse9'" -- sweep e4m3 --from f16 --impl sse9
run encode e4m3 --from f16 -i "$tmp/f16in" -o "$tmp/enc" && cmp -s "$tmp/enc" "$tmp/whole" && ok || bad "encode f16 stream"
printf '\x00\x01\x7b\xfb\x7c' | run decode e5m2 --to f16 >"$tmp/dec" && \
  [ "$(od -An -tx2 "$tmp/dec" | tr -s ' ')" = " 0000 0100 7b00 fb00 7c00" ] && ok || bad "decode e5m2 -> f16"
printf '\x7e' | run decode e4m3 --to f32 | od -An -tx4 | grep -q 43e00000 && ok || bad "decode 0x7e -> 448"
printf '\x00\x00\xe8\x43' | run encode e4m3 --from f32 | od -An -tx1 | grep -q 7e && ok || bad "encode 464 -> 0x7e"
printf '\x00\x00\xf0\x43' | run encode e4m3 --from f32 --rounding rtz --profile llvm | od -An -tx1 | grep -q 7e && ok || bad "IEEE rtz (llvm) 480 -> max"
printf '\x00\x00\xf0\x43' | run encode e4m3 --from f32 --rounding rtz | od -An -tx1 | grep -q 7f && ok || bad "ml_dtypes' truncation 480 -> NaN"
printf '\x00\x00\xf0\x43' | run encode e4m3 --from f32 | od -An -tx1 | grep -q 7f && ok || bad "rne 480 -> NaN"
printf '\x00\x00\xe8\x43' | run quantize e5m2 --type f32 | od -An -tx4 | grep -q 43e00000 && ok || bad "quantize e5m2 464 -> 448"
run quantize e4m3 --type f16 -i "$tmp/f16in" -o "$tmp/q16" && run decode e4m3 --to f16 -i "$tmp/whole" -o "$tmp/d16" &&
  cmp -s "$tmp/q16" "$tmp/d16" && ok || bad "quantize = decode(encode) on every f16"
expect 2 "unknown profile" "cuda not in" -- encode e4m3 --from f32 --profile cuda
expect 2 "unknown source" "--from" -- encode e4m3 --from f8
expect 2 "unknown option" "--frobnicate" -- encode e4m3 --from f32 --frobnicate
expect 2 "unreadable file" "cannot read" -- encode e4m3 --from f32 -i "$tmp/does-not-exist"
expect 2 "bad shard" "bad --shard" -- sweep e4m3 --from f16 --shard 3/3
expect 2 "odd length" "not a multiple" -- encode e4m3 --from f32 -i "$golden/fp8/cuda_rn_f32_to_e2m1.runs" -o "$tmp/never"
[ -e "$tmp/never" ] && bad "output file left after failure" || ok
ls "$tmp" | grep -q '\.tmp\.' && bad "temporary file left after failure" || ok

# ---- --packed (FP6, FP4; docs/formats/fp6-fp4.md): encode --packed | decode --packed is decode(encode)
run encode e2m1 --from f16 --packed -i "$tmp/f16in" -o "$tmp/p4" && [ "$(wc -c <"$tmp/p4")" -eq 32768 ] &&
  run decode e2m1 --packed --to f16 -i "$tmp/p4" -o "$tmp/p4d" && run quantize e2m1 --type f16 -i "$tmp/f16in" -o "$tmp/p4q" &&
  cmp -s "$tmp/p4d" "$tmp/p4q" && ok || bad "encode --packed | decode --packed e2m1"
run sweep e2m1 --from f16 --packed -o "$tmp/p4s" && cmp -s "$tmp/p4s" "$tmp/p4" && ok || bad "sweep --packed = encode --packed of every f16"
printf '\x00\x3c\x00\xc0\x00\x3e' | run encode e3m2 --from f16 --packed | od -An -tx1 | grep -q "0c ec 00" && ok || bad "e3m2 --packed bytes"
printf '\x00\x3c\x00\xc0\x00\x3e' | run encode e3m2 --from f16 --packed | run decode e3m2 --packed --count 3 --to f16 |
  od -An -tx2 | grep -q "^ 3c00 c000 3e00$" && ok || bad "encode --packed | decode --packed --count 3"
expect 2 "--packed on an 8-bit format" "--packed" -- encode e4m3 --from f32 --packed
printf '\xf2' >"$tmp/pad"
expect 2 "packed padding bits set" "padding" -- decode e2m1 --packed --count 1 -i "$tmp/pad"
expect 2 "packed input of another count" "--count 3: the input holds 2 codes" -- decode e2m1 --packed --count 3 -i "$tmp/pad"

# ---- The other minifloats: ml_dtypes' tables byte for byte (its names verbatim), sub-byte codes in the low bits
for spec in "e4m3fnuz f16 ml_dtypes rne e4m3fnuz.from_f16.rne" "float4_e2m1fn bf16 ml_dtypes rne e2m1fn.from_bf16.rne" \
            "e2m1 f16 ml_dtypes-sat rne e2m1fn.from_f16.sat" "float8_e4m3fnuz bf16 ml_dtypes rtz e4m3fnuz.from_bf16.rtz"; do
  set -- $spec
  run sweep "$1" --from "$2" --profile "$3" --rounding "$4" -o "$tmp/sweep" && cmp -s "$tmp/sweep" "$golden/minifloat/$5.u8" &&
    ok || bad "sweep $spec"
done
printf '\x00\x00\x80\xbf\x00\x00\xc0\x40\x00\x00\x00\x80' | run encode e2m1 --from f32 | od -An -tx1 | grep -q "0a 07 08" &&
  ok || bad "encode e2m1 -1, 6, -0 -> 0x0a 0x07 0x08"
printf '\x80\x7f\x00' | run decode e4m3fnuz --to f32 | od -An -tx4 | grep -q "ffc00000 43700000 00000000" &&
  ok || bad "decode e4m3fnuz 0x80 (NaN), 0x7f (240), 0x00"
printf '\x07\x17' >"$tmp/e2m1_high"
expect 2 "decode e2m1 of a byte with high bits" "bits above the low 4" -- decode e2m1 --to f32 -i "$tmp/e2m1_high" -o "$tmp/never"
expect 2 "a CUDA profile on e2m1" "does not apply to e2m1" -- encode e2m1 --from f32 --profile cuda-nosat -i "$tmp/x.f32" -o "$tmp/never"
expect 2 "convert is OCP FP8 only" -- convert e4m3fnuz -i "$tmp/x.f32" -o "$tmp/never"

# ---- .npy streams: the same elements as the raw ones; outputs keep the input's shape
run encode e4m3 --from f16 -i "$tmp/f16in" -o "$tmp/enc.npy" && grep -a -q "'descr': '|u1', 'fortran_order': False, 'shape': (65536,)" "$tmp/enc.npy" &&
  ok || bad "encode -> .npy header"
run decode e4m3 --to f16 -i "$tmp/enc.npy" -o "$tmp/dec.npy" && run decode e4m3 --to f16 -i "$tmp/enc" -o "$tmp/dec.raw" &&
  grep -a -q "'descr': '<f2'" "$tmp/dec.npy" && [ "$(tail -c 131072 "$tmp/dec.npy" | od -An -tx1)" = "$(od -An -tx1 "$tmp/dec.raw")" ] &&
  ok || bad "decode .npy -> .npy equals the raw stream"
npy '<f4' '32, 40' "$tmp/x.f32" "$tmp/x2d.npy"
run encode e5m2 -i "$tmp/x2d.npy" -o "$tmp/c2d.npy" && grep -a -q "'shape': (32, 40)" "$tmp/c2d.npy" && ok || bad "a 2-D input gives 2-D codes"
expect 2 "npy dtype size" "holds <f2 (2-byte elements), expected <f4 (f32 values)" -- encode e4m3 --from f32 -i "$tmp/dec.npy"
expect 2 "npy container output" "writes a file format of its own" -- encode gse -i "$tmp/x.f32" -o "$tmp/gse.npy"
head -c 100 "$tmp/enc.npy" >"$tmp/cut.npy"
expect 2 "truncated npy" "npy" -- decode e4m3 --to f32 -i "$tmp/cut.npy"
cp "$tmp/x.f32" "$tmp/fake.npy"
expect 2 "a .npy name without the magic" "is named .npy but is not a .npy array" -- encode e4m3 -i "$tmp/fake.npy"

# ---- A safetensors, .npy or .gse header is never read as a raw stream (files and standard input)
run encode nf4 -i "$golden/nf4/tail357.in.f32" -o "$tmp/w.safetensors" || bad "encode nf4"
run encode gse -i "$tmp/x.f32" -o "$tmp/x.gse" || bad "encode gse"
expect 2 "safetensors into encode nf4" "is a .safetensors file, not a raw f32 stream" -- encode nf4 -i "$tmp/w.safetensors" -o "$tmp/never"
expect 2 "gse into encode e4m3" "is a .gse stream, not a raw f32 stream" -- encode e4m3 -i "$tmp/x.gse"
expect 2 "safetensors into quantize mx" "is a .safetensors file" -- quantize mxint8 -i "$tmp/w.safetensors"
run encode e4m3 <"$tmp/w.safetensors" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "standard input is a .safetensors file" "$tmp/err" && ok || bad "safetensors on stdin"
run encode e4m3 --from f32 <"$tmp/x.npy" >"$tmp/from_stdin" && run encode e4m3 -i "$tmp/x.f32" -o "$tmp/from_raw" &&
  cmp -s "$tmp/from_stdin" "$tmp/from_raw" && ok || bad "a .npy on stdin is read as its elements"
expect 2 "raw into decode gse" "is a raw stream, not a .gse stream" -- decode gse -i "$tmp/x.f32"
expect 2 "gse into decode nf4" "is a .gse stream, not a .safetensors file" -- decode nf4 -i "$tmp/x.gse"
[ -e "$tmp/never" ] && bad "output file left after a refused input" || ok

# ---- inspect: a checkpoint's tensors and their formats (docs/checkpoints.md)
expect 2 "inspect without MODEL" "MODEL is required" -- inspect
expect 2 "inspect of a raw file" "$tmp/x.f32" -- inspect "$tmp/x.f32"
mkdir -p "$tmp/ckpt" && cp "$tmp/w.safetensors" "$tmp/ckpt/model.safetensors" && echo '{"quantization_config": {"quant_method": "bitsandbytes"}}' >"$tmp/ckpt/config.json"
run inspect "$tmp/ckpt" >"$tmp/out" && grep -q "^weight .* U8 .*nf4 (blocksize 64, float32 \[357\])" "$tmp/out" && grep -q "^  weight.absmax " "$tmp/out" &&
  grep -q "^4 tensors, .* bytes in 1 shard; nf4 1$" "$tmp/out" && grep -q '^quantization_config: {"quant_method":"bitsandbytes"}' "$tmp/out" && ok || bad "inspect a folder: $(cat "$tmp/out")"
run inspect --json "$tmp/w.safetensors" | grep -q '"format": "nf4"' && ok || bad "inspect --json"

# ---- convert / dequantize: whole checkpoints (docs/checkpoints.md); one thread under qemu-user, whose
# dynamically linked programs hang when they start a thread
jobs=(-j 2)
[ ${#emu[@]} -gt 0 ] && jobs=(-j 1)
st_f32 "$tmp/x.f32" 10 128 "$tmp/wm.safetensors"
run convert nf4 -i "$tmp/wm.safetensors" -o "$tmp/c1" --double-quant "${jobs[@]}" >"$tmp/out" 2>"$tmp/err" && [ ! -s "$tmp/err" ] &&
  run inspect "$tmp/c1" | grep -q "^weight .*nf4-dq (blocksize 64, float32 \[10, 128\])" && ok || bad "convert nf4: $(cat "$tmp/err")"
run quantize nf4 --double-quant -i "$tmp/x.f32" -o "$tmp/q1" && run dequantize -i "$tmp/c1" -o "$tmp/d1" --to f32 --quiet "${jobs[@]}" &&
  tail -c 5120 "$tmp/d1/model.safetensors" | cmp -s - "$tmp/q1" && ok || bad "convert + dequantize = quantize"
run convert fp4 "${jobs[@]}" -i "$tmp/wm.safetensors" -o "$tmp/c2" --json | grep -q '"rel_rms_error"' && ok || bad "convert --json"
expect 2 "convert without -o" "--output is required" -- convert nf4 -i "$tmp/wm.safetensors"
expect 2 "convert into a folder that is not empty" "exists and is not an empty folder (--force replaces it)" -- convert nf4 -i "$tmp/wm.safetensors" -o "$tmp/c1"
run convert nf4 -i "$tmp/wm.safetensors" -o "$tmp/c1" --force "${jobs[@]}" && run inspect "$tmp/c1" | grep -q "; nf4 1$" && ok || bad "convert --force"
expect 2 "convert over its input" "would replace the input model" -- convert nf4 -i "$tmp/c1" -o "$tmp/c1" --force
expect 2 "convert into the input's folder" "lies inside the input model's folder" -- convert nf4 -i "$tmp/c1" -o "$tmp/c1/sub"
expect 2 "convert a raw file" "$tmp/x.f32" -- convert nf4 -i "$tmp/x.f32" -o "$tmp/c3"
expect 2 "convert a 1-D tensor" "selected but not 2-D" -- convert nf4 -i "$tmp/w.safetensors" -o "$tmp/c3" --include weight.absmax
expect 2 "bad shard size" "bad size '5XB'" -- convert nf4 -i "$tmp/wm.safetensors" -o "$tmp/c3" --shard-size 5XB
expect 2 "dequantize to I8" "I8 not in" -- dequantize -i "$tmp/c1" -o "$tmp/c3" --to I8
head -c 4000 "$tmp/wm.safetensors" >"$tmp/trunc.safetensors"
expect 2 "convert a truncated file" "tensor 'weight': data_offsets [0, 5120] lie outside" -- convert nf4 -i "$tmp/trunc.safetensors" -o "$tmp/c3"
mkdir -p "$tmp/sharded" && cp "$tmp/wm.safetensors" "$tmp/sharded/model-00001-of-00002.safetensors" &&
  echo '{"weight_map": {"weight": "model-00002-of-00002.safetensors"}}' >"$tmp/sharded/model.safetensors.index.json"
expect 2 "convert with a shard missing" "shard 'model-00002-of-00002.safetensors' does not exist" -- convert nf4 -i "$tmp/sharded" -o "$tmp/c3"
[ -e "$tmp/c3" ] && bad "output folder left after a refused conversion" || ok
# ---- convert e4m3|e5m2: FP8 weights with f32 scales (docs/formats/fp8.md, "Checkpoint layout")
run convert fp8 "${jobs[@]}" --quiet -i "$tmp/wm.safetensors" -o "$tmp/cfp8c" && run inspect "$tmp/cfp8c" | grep -q "^weight .*fp8-e4m3 (per-channel scale)" &&
  ok || bad "convert fp8: per-channel scales by default"
st_f32 "$tmp/x.f32" 5 256 "$tmp/xw.safetensors"
run convert fp8 "${jobs[@]}" --block 128 --include weight --quiet -i "$tmp/xw.safetensors" -o "$tmp/cfp8" && run inspect "$tmp/cfp8" >"$tmp/out" &&
  grep -q "^weight .* F8_E4M3 .*fp8-e4m3 (block scale_inv \[1, 2\])" "$tmp/out" && grep -q "^  weight_scale_inv .* F32 " "$tmp/out" &&
  run dequantize "${jobs[@]}" -i "$tmp/cfp8" -o "$tmp/cfp8_deq" --quiet && run inspect "$tmp/cfp8_deq" | grep -q "^weight .* F32 .*plain" &&
  ok || bad "convert fp8 --block 128, inspect, dequantize: $(cat "$tmp/out")"
run convert e5m2 "${jobs[@]}" --scale tensor --include weight --json -i "$tmp/xw.safetensors" -o "$tmp/cfp8t" | grep -q '"format": "fp8-e5m2"' &&
  ok || bad "convert e5m2 --scale tensor --json"
expect 2 "convert e4m3 --block 64" "--block" -- convert e4m3 --block 64 --include weight -i "$tmp/xw.safetensors" -o "$tmp/never"
expect 2 "convert e4m3 --scale with --block" "excludes" -- convert e4m3 --scale tensor --block 128 -i "$tmp/xw.safetensors" -o "$tmp/never"

# ---- convert gse / mx<...>: lowbit's block layout (docs/formats/gse.md section 12, mx.md section 5). IC 256 is
# whole groups, so each row's codes are those of the flat stream: dequantize equals quantize.
run convert gse --bits 4 --include weight --quiet -i "$tmp/xw.safetensors" -o "$tmp/cgse" "${jobs[@]}" && run inspect "$tmp/cgse" >"$tmp/out" &&
  grep -q "^weight .* U8 .*\[5, 128\] .*gse (4-bit codes, group 32, 5-bit exponents, bias 15, offset 0, float32 \[5, 256\])" "$tmp/out" &&
  grep -q "^  weight.gse_exponents .* U8 .*\[5, 8\]" "$tmp/out" && run quantize gse --bits 4 -i "$tmp/x.f32" -o "$tmp/qgse" &&
  run dequantize -i "$tmp/cgse" -o "$tmp/cgse_deq" --quiet "${jobs[@]}" && tail -c 5120 "$tmp/cgse_deq/model.safetensors" | cmp -s - "$tmp/qgse" &&
  ok || bad "convert gse --bits 4, inspect, dequantize = quantize: $(cat "$tmp/out")"
run convert mxfp4-e2m1 --include weight --quiet -i "$tmp/xw.safetensors" -o "$tmp/cmx" "${jobs[@]}" && run inspect "$tmp/cmx" >"$tmp/out" &&
  grep -q "^weight .* U8 .*\[5, 128\] .*mxfp4-e2m1 (block 32, E8M0 scales, float32 \[5, 256\])" "$tmp/out" &&
  grep -q "^  weight.mx_scales .* U8 .*\[5, 8\]" "$tmp/out" && run quantize mxfp4-e2m1 -i "$tmp/x.f32" -o "$tmp/qmx" &&
  run dequantize -i "$tmp/cmx" -o "$tmp/cmx_deq" --quiet "${jobs[@]}" && tail -c 5120 "$tmp/cmx_deq/model.safetensors" | cmp -s - "$tmp/qmx" &&
  ok || bad "convert mxfp4-e2m1, inspect, dequantize = quantize: $(cat "$tmp/out")"
run convert mxint8 "${jobs[@]}" --rounding sr --seed 5 --include weight --json -i "$tmp/xw.safetensors" -o "$tmp/cmx8" | grep -q '"format": "mxint8"' &&
  ok || bad "convert mxint8 --rounding sr --json"
# gpt-oss's MXFP4: the same codes and scales as mxfp4-e2m1 in <w>.blocks [OC, G, 16] and <w>.scales [OC, G]
run convert mxfp4-gptoss --include weight --quiet -i "$tmp/xw.safetensors" -o "$tmp/cgpt" "${jobs[@]}" && run inspect "$tmp/cgpt" >"$tmp/out" &&
  grep -q "^weight.blocks .* U8 .*\[5, 8, 16\] .*mxfp4-gptoss (blocks of 32, E8M0 scales, weight \[5, 256\])" "$tmp/out" &&
  grep -q "^  weight.scales .* U8 .*\[5, 8\]" "$tmp/out" &&
  run dequantize -i "$tmp/cgpt" -o "$tmp/cgpt_deq" --to f32 --quiet "${jobs[@]}" && tail -c 5120 "$tmp/cgpt_deq/model.safetensors" | cmp -s - "$tmp/qmx" &&
  ok || bad "convert mxfp4-gptoss, inspect, dequantize = quantize mxfp4-e2m1: $(cat "$tmp/out")"
st_f32 "$tmp/x.f32" 32 40 "$tmp/w40.safetensors"
expect 2 "convert mxfp4-gptoss of 40 columns" "not a multiple of 32" -- convert mxfp4-gptoss --include weight -i "$tmp/w40.safetensors" -o "$tmp/never"
expect 2 "convert gse --bits 3" "bits must be 4..8, got 3" -- convert gse --bits 3 --include weight -i "$tmp/xw.safetensors" -o "$tmp/never"
expect 2 "convert mxfp8-e4m3 --rounding bogus" "bogus not in" -- convert mxfp8-e4m3 --rounding bogus -i "$tmp/xw.safetensors" -o "$tmp/never"

# ---- Rounding spellings: each family accepts exactly those it documents
expect 2 "FP8 has no 'nearest'" "nearest not in" -- encode e4m3 --rounding nearest -i "$tmp/x.f32"
expect 2 "GSE has no 'even'" "even not in" -- quantize gse --rounding even -i "$tmp/x.f32"
expect 2 "unknown rounding" "up not in" -- encode e5m2 --rounding up -i "$tmp/x.f32"
run quantize mxfp8-e4m3 --rounding nearest -i "$tmp/x.f32" -o "$tmp/m1" && run quantize mxfp8-e4m3 --rounding rna -i "$tmp/x.f32" -o "$tmp/m2" &&
  cmp -s "$tmp/m1" "$tmp/m2" && ok || bad "MX: nearest is rna"

# ---- An integer .npy for a float stream needs --bits-as-float (the golden <u4 inputs)
run gen e4m3 --level boundary -o "$tmp/g8" 2>/dev/null || bad "gen e4m3"
expect 2 "<u4 without the flag" "give --bits-as-float" -- encode e4m3 -i "$tmp/g8/inputs.npy" -o "$tmp/never"
run encode e4m3 --bits-as-float -i "$tmp/g8/inputs.npy" -o "$tmp/g8_out.npy" && cmp -s "$tmp/g8_out.npy" "$tmp/g8/expected.npy" &&
  ok || bad "encode of the golden inputs with --bits-as-float is the golden set's expected.npy"
expect 0 "verify the tool's own outputs" "no errors found" -- verify e4m3 --golden "$tmp/g8" --actual "$tmp/g8_out.npy"

# ---- verify: 0, 1 (a report per class, decimal beside hex, index; JSON objects), 2 (could not run)
cp "$tmp/g8_out.npy" "$tmp/g8_bad.npy"
printf '\x01' | dd of="$tmp/g8_bad.npy" bs=1 seek=200 conv=notrunc 2>/dev/null
expect 1 "verify a mismatch" "errors found" -- verify e4m3 --golden "$tmp/g8" --actual "$tmp/g8_bad.npy"
grep -q "examples per class" "$tmp/out" && grep -q " \[[0-9]*\] input 0x[0-9a-f]* (.*) => got 0x01 (0.001953125) expected" "$tmp/out" &&
  ok || bad "verify's text: index, hex and decimal: $(cat "$tmp/out")"
run verify e4m3 --json --golden "$tmp/g8" --actual "$tmp/g8_bad.npy" >"$tmp/vj"
grep -q '"mismatches":\[{"class":' "$tmp/vj" && grep -q '"got":{"hex":"0x01","value":"0.001953125"}' "$tmp/vj" && grep -q '"index":' "$tmp/vj" &&
  ok || bad "verify --json: mismatches as objects: $(head -c 400 "$tmp/vj")"
head -c 100 "$tmp/x.f32" >"$tmp/x100"
npy '|u1' '100,' "$tmp/x100" "$tmp/g8_100.npy"
expect 2 "verify names the expected dtype and size" "holds 100 values of |u1, which match no output of the golden set: expected (" \
  -- verify e4m3 --golden "$tmp/g8" --actual "$tmp/g8_100.npy"
grep -q "values of |u1), decode_expected (256 values of <u4 or <f4)" "$tmp/err" && ok || bad "wrong-size message: $(cat "$tmp/err")"
expect 2 "verify another format's set" "holds e4m3 cases, not e5m2" -- verify e5m2 --golden "$tmp/g8" --actual "$tmp/g8_out.npy"

# ---- GSE: the .gse stream round trip equals quantize; gemm; errors
run decode gse -i "$tmp/x.gse" -o "$tmp/y.f32" && run quantize gse -i "$tmp/x.f32" -o "$tmp/z.f32" && cmp -s "$tmp/y.f32" "$tmp/z.f32" &&
  ok || bad "decode(encode) differs from quantize"
run encode gse --bits 6 --group 64 -i "$tmp/x.f32" -o "$tmp/x6.gse" && [ "$(head -c 4 "$tmp/x6.gse")" = "LBGS" ] &&
  run decode gse --to bf16 -i "$tmp/x6.gse" -o "$tmp/y.bf16" && [ "$(wc -c <"$tmp/y.bf16")" -eq 2560 ] && ok || bad "gse 6-bit to bf16"
run quantize gse --type f16 -i "$tmp/f16in" -o "$tmp/g16" && [ "$(wc -c <"$tmp/g16")" -eq 131072 ] && ok || bad "quantize gse f16"
head -c 280 "$tmp/x.f32" >"$tmp/a.f32"; head -c 560 "$tmp/x.f32" >"$tmp/b.f32"
run gemm gse --m 2 --n 4 --k 35 -a "$tmp/a.f32" -b "$tmp/b.f32" -o "$tmp/c.f32" && [ "$(wc -c <"$tmp/c.f32")" -eq 32 ] && ok || bad "gemm"
run gemm gse --m 2 --n 4 --k 35 -a "$tmp/a.f32" -b "$tmp/b.f32" -o "$tmp/c.npy" && grep -a -q "'shape': (2, 4)" "$tmp/c.npy" && ok || bad "gemm .npy"
expect 2 "gemm shape" "needs 72" -- gemm gse --m 2 --n 4 --k 36 -a "$tmp/a.f32" -b "$tmp/b.f32"
head -c 100 "$tmp/x.gse" >"$tmp/short.gse"
expect 2 "truncated .gse" "payload bytes" -- decode gse -i "$tmp/short.gse" -o "$tmp/never"
expect 2 "bad group" "group must be" -- encode gse --group 33 -i "$tmp/x.f32"
expect 2 "gse option on fp8" "does not take: --bits 4" -- encode e4m3 --bits 4 -i "$tmp/x.f32"

# ---- MX: encode/decode (.safetensors) equals quantize; MXINT8 is a GSE format
for f in mxint8 mxfp8-e4m3 mxfp8-e5m2 mxfp6-e3m2 mxfp6-e2m3 mxfp4-e2m1; do
  run encode "$f" --rounding even -i "$tmp/x.f32" -o "$tmp/m.safetensors" && run decode "$f" -i "$tmp/m.safetensors" -o "$tmp/m.f32" &&
    run quantize "$f" --rounding even -i "$tmp/x.f32" -o "$tmp/q.f32" && cmp -s "$tmp/m.f32" "$tmp/q.f32" && ok || bad "mx $f round trip"
done
expect 2 "mx file of another format" "holds mxfp4-e2m1 codes, not mxint8" -- decode mxint8 -i "$tmp/m.safetensors"
run quantize mxint8 -i "$tmp/x.f32" -o "$tmp/m1.f32" &&
  run quantize gse --bits 8 --group 32 --exp-bits 8 --exponent-overflow nan --rounding rna -i "$tmp/x.f32" -o "$tmp/m2.f32" &&
  cmp -s "$tmp/m1.f32" "$tmp/m2.f32" && ok || bad "mxint8 differs from its GSE format"

# ---- NVFP4: encode/decode (.safetensors) equals quantize in each blocking, scale layout and rounding
for opts in "" "--blocking 2d --cols 32" "--scale-layout swizzled --cols 64" "--rounding sr --seed 3 --cols 80"; do
  # shellcheck disable=SC2086
  run encode nvfp4 $opts -i "$tmp/x.f32" -o "$tmp/n.safetensors" && run decode nvfp4 -i "$tmp/n.safetensors" -o "$tmp/n.f32" &&
    run quantize nvfp4 $opts -i "$tmp/x.f32" -o "$tmp/nq.f32" && cmp -s "$tmp/n.f32" "$tmp/nq.f32" && ok || bad "nvfp4 $opts round trip"
done
run quantize nvfp4 -i "$tmp/x2d.npy" -o "$tmp/n1.f32" && run quantize nvfp4 --cols 40 -i "$tmp/x.f32" -o "$tmp/n2.f32" &&
  cmp -s "$tmp/n1.f32" "$tmp/n2.f32" && ok || bad "nvfp4 takes the row length of a 2-D .npy"
expect 2 "nvfp4 --cols that does not divide" "not rows of 33" -- quantize nvfp4 --cols 33 -i "$tmp/x.f32" -o "$tmp/never"
expect 2 "nvfp4 --rounding rna" "rna not in" -- quantize nvfp4 --rounding rna -i "$tmp/x.f32" -o "$tmp/never"
# Packed codes (two a byte, CUDA's fp4x2): TE's uint8 [32, 20] for the 32 x 40 matrix, half the bytes; decode restores the shape
run encode nvfp4 -i "$tmp/x2d.npy" -o "$tmp/nu.safetensors" && run encode nvfp4 --packed -i "$tmp/x2d.npy" -o "$tmp/np.safetensors" &&
  [ $(( $(wc -c <"$tmp/nu.safetensors") - $(wc -c <"$tmp/np.safetensors") )) -ge 500 ] && grep -a -q '"codes":{"dtype":"U8","shape":\[32,20\]' "$tmp/np.safetensors" &&
  run decode nvfp4 -i "$tmp/np.safetensors" -o "$tmp/np.npy" && run quantize nvfp4 -i "$tmp/x2d.npy" -o "$tmp/nq.npy" && cmp -s "$tmp/np.npy" "$tmp/nq.npy" &&
  ok || bad "nvfp4 --packed round trip"
run encode nvfp4 --packed -i "$tmp/x.f32" --cols 5 -o "$tmp/np5.safetensors" && run decode nvfp4 -i "$tmp/np5.safetensors" -o "$tmp/np5.f32" &&
  run quantize nvfp4 --cols 5 -i "$tmp/x.f32" -o "$tmp/nq5.f32" && cmp -s "$tmp/np5.f32" "$tmp/nq5.f32" && ok || bad "nvfp4 --packed rows of odd length"
expect 2 "nvfp4 quantize --packed" "packed" -- quantize nvfp4 --packed -i "$tmp/x.f32" -o "$tmp/never"

# ---- NF4: bitsandbytes' tensors, bit-exact with the golden dequantization; the quant_state as bitsandbytes writes it
run encode nf4 --profile bnb-cpu --double-quant -i "$golden/nf4/tail357.in.f32" -o "$tmp/w.safetensors" &&
  run decode nf4 -i "$tmp/w.safetensors" -o "$tmp/w.f32" && cmp -s "$tmp/w.f32" "$golden/nf4/tail357.bnbcpu.dq.deq.f32" &&
  ok || bad "nf4 double-quant round trip differs from bitsandbytes"
[ "$(quant_state "$tmp/w.safetensors")" = "$(cat "$golden/nf4/tail357.bnbcpu.dq.quant_state.json")" ] && ok || bad "nf4 dq quant_state"
npy '<f4' '7, 51' "$golden/nf4/tail357.in.f32" "$tmp/w2d.npy"
want2d=$(sed 's/"shape": \[357\]/"shape": [7, 51]/' "$golden/nf4/tail357.bnbcpu.quant_state.json")
run encode nf4 --profile bnb-cpu -i "$tmp/w2d.npy" -o "$tmp/w2d.safetensors" && [ "$(quant_state "$tmp/w2d.safetensors")" = "$want2d" ] &&
  ok || bad "a 2-D .npy gives a 2-D quant_state: $(quant_state "$tmp/w2d.safetensors")"
run encode nf4 --profile bnb-cpu --shape 7,51 -i "$golden/nf4/tail357.in.f32" -o "$tmp/s2d.safetensors" && cmp -s "$tmp/s2d.safetensors" "$tmp/w2d.safetensors" &&
  ok || bad "--shape OC,IC equals the .npy shape"
run decode nf4 -i "$tmp/w2d.safetensors" -o "$tmp/w2d_out.npy" && grep -a -q "'shape': (7, 51)" "$tmp/w2d_out.npy" &&
  [ "$(tail -c 1428 "$tmp/w2d_out.npy" | od -An -tx1)" = "$(od -An -tx1 "$golden/nf4/tail357.bnbcpu.deq.f32")" ] && ok || bad "decode nf4 to a 2-D .npy"
run quantize nf4 --profile bnb-cpu -i "$golden/nf4/tail357.in.f32" -o "$tmp/nq.f32" && cmp -s "$tmp/nq.f32" "$golden/nf4/tail357.bnbcpu.deq.f32" &&
  ok || bad "quantize nf4 equals the golden dequantization"
run encode fp4 --block 128 -i "$tmp/x.npy" -o "$tmp/f.safetensors" && run decode fp4 -i "$tmp/f.safetensors" -o "$tmp/f.f32" &&
  [ "$(wc -c <"$tmp/f.f32")" -eq 5120 ] && ok || bad "fp4 round trip from .npy"
expect 2 "--shape mismatch" "--shape 7,50 holds 350 elements, the input 357" -- encode nf4 --shape 7,50 -i "$golden/nf4/tail357.in.f32"
head -c 100 "$tmp/w.safetensors" >"$tmp/short.safetensors"
expect 2 "truncated safetensors" "safetensors" -- decode nf4 -i "$tmp/short.safetensors" -o "$tmp/never"
expect 2 "wrong 4-bit type" "holds nf4 weights, not fp4" -- decode fp4 -i "$tmp/w.safetensors"
expect 2 "bad block" "block must be a power of two" -- encode nf4 --block 48 -i "$tmp/x.f32"
expect 2 "nf4 option on fp8" "does not take: --block 64" -- encode e4m3 --block 64 -i "$tmp/x.f32"
expect 2 "dq option without dq" "need --double-quant" -- encode nf4 --dq-offset 1 -i "$tmp/x.f32"

# ---- QEFT / OWQ: encode the golden weights, decode each kernel path: bit-exact with the golden weights
for c in q_rand_128x384_k32 q_edge_128x256_k64 q_rand_128x256_k0; do
  dims=${c#*_*_}; dims=${dims%_k*}; weak=()
  if [ -e "$golden/qeft/$c.weak_idx.i32" ]; then  # half the cases give the index as an <i4 .npy
    k=$(( $(wc -c <"$golden/qeft/$c.weak_idx.i32") / 4 ))
    npy '<i4' "$k," "$golden/qeft/$c.weak_idx.i32" "$tmp/idx.npy"
    weak=(--weak-idx "$tmp/idx.npy")
  fi
  st_f32 "$golden/qeft/$c.w.f32" "${dims%x*}" "${dims#*x}" "$tmp/w.st"
  size=$(wc -c <"$golden/qeft/$c.deq.f32")
  run encode qeft --tuning minmax "${weak[@]}" -i "$tmp/w.st" -o "$tmp/p.st" && run decode qeft -i "$tmp/p.st" -o "$tmp/d.st" &&
    tail -c "$size" "$tmp/d.st" | cmp -s - "$golden/qeft/$c.deq.f32" && ok || bad "qeft encode/decode $c"
  run decode qeft --path nowc -i "$tmp/p.st" -o "$tmp/d.npy" && tail -c "$size" "$tmp/d.npy" | cmp -s - "$golden/qeft/$c.deq_nowc.f32" &&
    ok || bad "qeft decode --path nowc $c"
done
for c in o3_edge_128x256_k8 o4_rand_256x512_k16 o3_rand_128x256_k0; do
  dims=${c#*_*_}; dims=${dims%_k*}; weak=(); bits=${c:1:1}
  [ -e "$golden/owq/$c.weak_idx.i32" ] && weak=(--weak-idx "$golden/owq/$c.weak_idx.i32")
  st_f32 "$golden/owq/$c.w.f32" "${dims%x*}" "${dims#*x}" "$tmp/w.st"
  size=$(wc -c <"$golden/owq/$c.deq.f32")
  run encode owq --bits "$bits" --tuning minmax "${weak[@]}" -i "$tmp/w.st" -o "$tmp/p.st" || bad "owq encode $c"
  for path in "fp16 deq" "fp32 deq_fp32k" "nowc deq_nowc"; do
    set -- $path
    run decode owq --path "$1" -i "$tmp/p.st" -o "$tmp/d.st" && tail -c "$size" "$tmp/d.st" | cmp -s - "$golden/owq/$c.$2.f32" &&
      ok || bad "owq decode --path $1 $c"
  done
  run quantize owq --bits "$bits" --tuning minmax "${weak[@]}" -i "$tmp/w.st" -o "$tmp/q.st" &&
    tail -c "$size" "$tmp/q.st" | cmp -s - "$golden/owq/$c.deq.f32" && ok || bad "quantize owq $c"
done
c=q_rand_128x256_k64
st_f32 "$golden/qeft/$c.w.f32" 128 256 "$tmp/w.st"
npy '<f4' '128, 256' "$golden/qeft/$c.w.f32" "$tmp/w.npy"
run encode qeft --tuning minmax --weak-idx "$golden/qeft/$c.weak_idx.i32" -i "$tmp/w.st" -o "$tmp/p.st" &&
  run encode qeft --tuning minmax --weak-idx "$golden/qeft/$c.weak_idx.i32" -i "$tmp/w.npy" -o "$tmp/p2.st" && cmp -s "$tmp/p.st" "$tmp/p2.st" &&
  ok || bad "a 2-D .npy weight equals the safetensors one"
run decode qeft --order original -i "$tmp/p.st" -o "$tmp/o.st" && run decode qeft -i "$tmp/p.st" -o "$tmp/s.st" &&
  ! cmp -s "$tmp/o.st" "$tmp/s.st" && ok || bad "decode --order original differs from the stored order"
run quantize qeft --tuning minmax --weak-idx "$golden/qeft/$c.weak_idx.i32" -i "$tmp/w.st" -o "$tmp/q.st" && cmp -s "$tmp/q.st" "$tmp/o.st" &&
  ok || bad "quantize qeft = decode --order original of encode"
run encode qeft -i "$tmp/w.st" -o "$tmp/mse.st" && run encode qeft --tuning mse --grid 1 -i "$tmp/w.st" -o "$tmp/mse1.st" &&
  cmp -s "$tmp/mse.st" "$tmp/mse1.st" && ok || bad "qeft's default is mse with a grid of 1"
expect 2 "qeft 3-bit" "does not take: --bits 3" -- encode qeft --bits 3 -i "$tmp/w.st" -o "$tmp/never"
expect 2 "owq groups" "OWQ quantizes per channel" -- encode owq --group 128 -i "$tmp/w.st" -o "$tmp/never"
expect 2 "weak idx length" "not a multiple of the 4-byte i32 element" -- encode qeft --weak-idx "$golden/nf4/divmul.bnbcpu.dq.qabsmax.u8" -i "$tmp/w.st" -o "$tmp/never"
expect 2 "weak idx dtype" "holds <f4 (4-byte elements), expected <i4" -- encode qeft --weak-idx "$tmp/x.npy" -i "$tmp/w.st" -o "$tmp/never"
printf '\x05\0\0\0\x02\0\0\0' >"$tmp/bad.i32"
expect 2 "weak idx order" "ascending" -- encode qeft --weak-idx "$tmp/bad.i32" -i "$tmp/w.st" -o "$tmp/never"
expect 2 "no weight tensor" "no tensor named 'weight'" -- encode qeft -i "$tmp/p.st" -o "$tmp/never"
expect 2 "raw weight" "give a .safetensors file with an F32 tensor 'weight'" -- encode qeft -i "$tmp/x.f32" -o "$tmp/never"
expect 2 "decode wrong layout" "holds a qeft layer, not owq" -- decode owq -i "$tmp/p.st" -o "$tmp/never"
expect 2 "decode bad path" "fp32 not in" -- decode qeft --path fp32 -i "$tmp/p.st" -o "$tmp/never"
expect 2 "grid without mse" "--grid applies" -- encode qeft --tuning minmax --grid 4 -i "$tmp/w.st" -o "$tmp/never"
# convert qeft|owq: a one-layer checkpoint (not Llama: no reordering, the layer gathers its input)
mkdir -p "$tmp/cqin" && st_f32 "$golden/qeft/$c.w.f32" 128 256 "$tmp/cqin/model.safetensors" model.layers.0.mlp.down_proj.weight
run convert qeft "${jobs[@]}" --k 8 --quiet -i "$tmp/cqin" -o "$tmp/cq" && run inspect "$tmp/cq" >"$tmp/out" &&
  grep -q "^model.layers.0.mlp.down_proj.qweight .* qeft$" "$tmp/out" && grep -q "^  model.layers.0.mlp.down_proj.reorder_ids .* I64 " "$tmp/out" &&
  run dequantize "${jobs[@]}" -i "$tmp/cq" -o "$tmp/cqd" && run inspect "$tmp/cqd" | grep -q "^model.layers.0.mlp.down_proj.weight .* F32 .*\[128, 256\]" &&
  ok || bad "convert qeft, inspect, dequantize: $(cat "$tmp/out")"
run convert owq "${jobs[@]}" --bits 3 --k 8 --quiet -i "$tmp/cqin" -o "$tmp/co" && run inspect "$tmp/co" | grep -q "^model.layers.0.mlp.down_proj.qweight .* owq-3$" &&
  ok || bad "convert owq --bits 3"
expect 2 "convert qeft without --k" "--k is required" -- convert qeft -i "$tmp/cqin" -o "$tmp/never"
expect 2 "convert owq without calibration stats" "model.layers.0.mlp.down_proj.input_sq_sum" -- convert owq --k 8 --calibration "$tmp/cqin/model.safetensors" -i "$tmp/cqin" -o "$tmp/never"
[ -e "$tmp/never" ] && bad "output file left after a failed encode" || ok

# ---- gen / verify of every family
for spec in "e5m2 --profile cuda-nosat" "float8_e4m3fnuz --profile ml_dtypes-sat" "e4m3 --profile llvm" "p3109_k8p3se --rounding rtz" "binary8p1sf --profile p3109-satfinite" "e2m1 --rounding rtz" "e8m0" "gse --bits 5 --rounding sr" "mxfp4-e2m1" "mxint8" "nf4 --double-quant" "fp4 --block 256" \
            "qeft --tuning minmax" "owq --bits 3" "gse-gemm --accumulate fp32 --m 3 --n 9"; do
  set -- $spec
  run gen "$@" --level boundary -o "$tmp/gen_$1" 2>/dev/null && run verify "$1" --golden "$tmp/gen_$1" --actual "$tmp/gen_$1" |
    grep -q "tests, no errors found" && ok || bad "gen/verify $spec"
done
run gen mxfp4-e2m1 --rounding floor --level boundary -o "$tmp/mx_floor" 2>/dev/null
expect 1 "verify mxfp4-e2m1 of wrong outputs" "elements tie" -- verify mxfp4-e2m1 --golden "$tmp/mx_floor" --actual "$tmp/gen_mxfp4-e2m1/elem_expected.npy"
run verify gse-gemm --tolerance --golden "$tmp/gen_gse-gemm" --actual "$tmp/gen_gse-gemm/other.npy" | grep -q "worst |got - expected| / bound" &&
  ok || bad "verify gse-gemm --tolerance accepts the exact result"
expect 1 "gse-gemm: exact is not fp32 bit for bit" -- verify gse-gemm --golden "$tmp/gen_gse-gemm" --actual "$tmp/gen_gse-gemm/other.npy"
expect 2 "gen level full" "level full is not a golden set" -- gen e4m3 --level full -o "$tmp/never"
expect 2 "gen old level spelling" "2 not in" -- gen e4m3 --level 2 -o "$tmp/never"
expect 2 "gen mx double-quant" "does not take: --double-quant" -- gen mxfp8-e4m3 --double-quant -o "$tmp/never"
expect 2 "gen gemm option on qeft" "does not take: --m 4" -- gen qeft --m 4 -o "$tmp/never"
expect 2 "verify tolerance" "does not take: --tolerance" -- verify qeft --tolerance --golden "$tmp/gen_qeft" --actual "$tmp/gen_qeft"

# ---- Golden folders that lie (issue 13): exit 2, one line naming the file. Only regular files inside
# the folder are read (a FIFO is refused without blocking on it, a device without reading it), each of
# exactly the size manifest.json declares; its shapes are the files'; its nesting is bounded.
liar() {  # liar NAME: a fresh copy of the e5m2 set, in $tmp/liar_NAME
  rm -rf "$tmp/liar_$1" && cp -r "$tmp/gen_e5m2" "$tmp/liar_$1" && echo "$tmp/liar_$1"
}
lie() { expect 2 "$1" "$2" -- verify e5m2 --golden "$3" --actual "$tmp/gen_e5m2"; }
d=$(liar fifo) && rm "$d/classes.npy" && mkfifo "$d/classes.npy"
lie "golden FIFO" "$d/classes.npy: not a regular file (a FIFO)" "$d"
d=$(liar dev) && ln -sf /dev/null "$d/expected.npy"
lie "golden symlink to /dev/null" "$d/expected.npy: a symbolic link out of the golden folder (to /dev/null)" "$d"
[ -c /dev/null ] && ok || bad "/dev/null is no longer a character device"
d=$(liar out) && mv "$d/expected.npy" "$tmp/outside.npy" && ln -s "$tmp/outside.npy" "$d/expected.npy"
lie "golden symlink out of the folder" "$d/expected.npy: a symbolic link out of the golden folder" "$d"
d=$(liar bytes) && sed -i '0,/"bytes": [0-9]*/s//"bytes": 1/' "$d/manifest.json"
lie "golden file size" "$d/classes.npy: holds" "$d"
d=$(liar shape) && sed -i '/"shape": \[/{n;s/[0-9][0-9]*/4611686018427387904/}' "$d/manifest.json"
lie "golden shape" "has shape [4611686018427387904], its file" "$d"
d=$(liar deep) && deep=$(printf '%*s' 100000 '' | tr ' ' '[')$(printf '%*s' 100000 '' | tr ' ' ']')
printf 's/"class_names": \\[/"deep": %s, "class_names": [/\n' "$deep" >"$tmp/deep.sed" && sed -i -f "$tmp/deep.sed" "$d/manifest.json"  # 200 kB: no argv
lie "golden manifest nested 10^5 deep" "$d/manifest.json: nests arrays or objects" "$d"
for name in '' '.'; do
  d=$(liar name) && sed -i "s/\"expected.npy\": {/\"$name\": {/" "$d/manifest.json"
  lie "golden file named '$name'" "$d/manifest.json: golden file name \"$name\" is not a plain file name" "$d"
done
expect 2 "gen -n above the limit" "at most 16777216 random cases" -- gen e4m3 -n 18446744073709551615 -o "$tmp/never"
expect 2 "gen gse-gemm above the limit" "at most 67108864" -- gen gse-gemm --m 4294967296 -o "$tmp/never"
[ -e "$tmp/never" ] && bad "gen left a folder after refusing its size" || ok

# ---- conform: every suite, the report, exit statuses; on the example plugins
run conform --format qeft --json >"$tmp/conform.json" && grep -q '"failed": 0' "$tmp/conform.json" &&
  grep -q '"seconds"' "$tmp/conform.json" && grep -q '"not_supported": 0' "$tmp/conform.json" && ok || bad "conform --json"
run conform --format nf4 | grep -q "seconds" && ok || bad "conform table has a time column"
run conform --format gse-gemm --json >"$tmp/gemm.json" && grep -q '"format": "gse-gemm"' "$tmp/gemm.json" &&
  grep -q '"profile": "fp32"' "$tmp/gemm.json" && grep -q '"failed": 0' "$tmp/gemm.json" && ok || bad "conform --format gse-gemm"
run conform --format e5m2 --profile cuda-nosat --rounding rtz --json >"$tmp/scoped.json" &&
  ! grep -q '"profile": "ml_dtypes"' "$tmp/scoped.json" && ! grep -q ' rne -> \| rna -> ' "$tmp/scoped.json" && grep -q ' rtz -> ' "$tmp/scoped.json" &&
  ok || bad "conform --profile --rounding scope the run"
expect 2 "conform unknown format" "unknown format 'e9m9'" -- conform --format e9m9
run conform --format float8_e4m3fnuz --format e2m1 --profile ml_dtypes --rounding rne --impl reference --json >"$tmp/mini.json" &&
  grep -q '"format": "e4m3fnuz"' "$tmp/mini.json" && grep -q '"format": "e2m1"' "$tmp/mini.json" && grep -q '"failed": 0' "$tmp/mini.json" &&
  ok || bad "conform --format of ml_dtypes' names"
expect 2 "conform unknown profile" "unknown profile 'cuda'" -- conform --profile cuda
run conform --format nvfp4 --impl reference --json >"$tmp/nv.json" && grep -q '"format": "nvfp4"' "$tmp/nv.json" &&
  grep -q '"profile": "transformer-engine"' "$tmp/nv.json" && grep -q '"failed": 0' "$tmp/nv.json" && ok || bad "conform --format nvfp4"
expect 2 "conform boundary" "boundary" -- conform --level boundary
expect 2 "conform in-process without a plugin" "--in-process applies to --plugin" -- conform --in-process --format gse
if [ -n "$plugins" ]; then
  expect 0 "conform --plugin example" "0 failed" -- conform --plugin "$plugins/liblowbit_example_plugin.so" --format gse "${in_process[@]}"
  expect 1 "conform --plugin faulty" "Errors found" -- conform --plugin "$plugins/liblowbit_faulty_plugin.so" --format mxfp4-e2m1 "${in_process[@]}"
  expect 0 "conform --plugin rne-only" "not supported" -- conform --plugin "$plugins/liblowbit_rne_only_plugin.so" --format e4m3 "${in_process[@]}"
  grep -q "ml_dtypes float8 (round to nearest even only), wrapped as a plugin e4m3 ml_dtypes" "$tmp/out" && grep -q ", 0 failed, [1-9][0-9]* not supported" "$tmp/out" &&
    ok || bad "the rne-only plugin's report: $(tail -5 "$tmp/out")"
  expect 0 "conform --plugin rne-only scoped" -- conform --plugin "$plugins/liblowbit_rne_only_plugin.so" --format e4m3 --rounding rne --profile ml_dtypes "${in_process[@]}"
  grep -q ", 0 failed, 0 not supported" "$tmp/out" && ok || bad "--rounding rne --profile ml_dtypes leaves only supported checks"
  expect 1 "conform --plugin v1 on e4m3fnuz" "does not declare" -- conform --plugin "$plugins/liblowbit_rne_only_plugin.so" --format e4m3fnuz "${in_process[@]}"
  expect 2 "conform --plugin missing" "cannot load plugin" -- conform --plugin "$tmp/none.so" "${in_process[@]}"
  expect 0 "conform --plugin example nvfp4" "0 failed" -- conform --plugin "$plugins/liblowbit_example_plugin.so" --format nvfp4 "${in_process[@]}"
  expect 1 "conform --plugin faulty nvfp4" "Errors found" -- conform --plugin "$plugins/liblowbit_faulty_nvfp4_plugin.so" --format nvfp4 "${in_process[@]}"
fi

# ---- Every command the docs show, run as written: the sh blocks after "<!-- cli_test: run -->" in
# README.md, docs/conformance.md and docs/vendor-abi.md, in order, in one folder holding the files they
# name. A comment "# exit N" expects status N; "# slow" (minutes) must start and run for 3 seconds.
docs=$tmp/docs
mkdir -p "$docs" "$tmp/bin"
cp "$tmp/x.f32" "$docs/x.f32"
head -c 512 "$tmp/x.f32" >"$docs/a.f32"
head -c 1024 "$tmp/x.f32" >"$docs/b.f32"
head -c 32768 "$golden/qeft/q_rand_128x256_k64.w.f32" >"$tmp/w64x128"
npy '<f4' '64, 128' "$tmp/w64x128" "$docs/w.npy"
printf '\x05\0\0\0\x11\0\0\0\x64\0\0\0' >"$tmp/idx3"
npy '<i4' '3,' "$tmp/idx3" "$docs/idx.npy"
[ -n "$plugins" ] && ln -s "$plugins/liblowbit_example_plugin.so" "$docs/libvendor.so"
printf '#!/bin/sh\nexec %s "$@"\n' "${emu[*]:+${emu[*]} }$bin" >"$tmp/bin/lowbit"
chmod +x "$tmp/bin/lowbit"
documented=0
while IFS= read -r line; do
  case "$line" in lowbit\ *) ;; *) continue ;; esac
  cmd=${line%% #*} comment=${line#"$cmd"} want=0 limit=600
  case "$comment" in *"# exit "[0-9]*) want=${comment##*# exit }; want=${want%% *} ;; esac
  case "$comment" in *"# slow"*) want=124 limit=3 cmd="exec $cmd" ;; esac  # exec: the signal reaches lowbit
  case "$cmd" in *--plugin*) [ -z "$plugins" ] && continue; cmd="$cmd ${in_process[*]}" ;; esac
  (cd "$docs" && PATH="$tmp/bin:$PATH" timeout "$limit" bash -o pipefail -c "$cmd" >/dev/null 2>"$tmp/err")
  rc=$?
  [ $rc -eq "$want" ] && ok || bad "documented command exits $rc, not $want: $cmd: $(head -c 300 "$tmp/err")"
  documented=$((documented + 1))
done < <(for f in README.md docs/conformance.md docs/vendor-abi.md; do
           awk '/<!-- cli_test: run -->/ { armed = 1; next }
                armed && /^```sh/ { block = 1; armed = 0; next }
                block && /^```/ { block = 0; next }
                block { if (sub(/\\$/, "")) { pending = pending $0; next } print pending $0; pending = "" }' "$root/$f"
         done)
[ "$documented" -ge 30 ] && ok || bad "only $documented documented commands found"

# ---- list, weak-columns, train-check, finetune
run list >"$tmp/list" && grep -q cuda-satfinite "$tmp/list" && grep -q "mxfp4-e2m1" "$tmp/list" && grep -q "(dispatched)" "$tmp/list" &&
  grep -q "^  e4m3fnuz  *float8_e4m3fnuz  *8  *4  *3  *8 yes  *fnuz  *240 (0x7f)" "$tmp/list" &&
  ok || bad "list shows the families, profiles and kernels"
st_f32 "$tmp/a.f32" 2 35 "$tmp/act.st"
run weak-columns --k 4 --no-global -i "$tmp/act.st" -o "$tmp/wc.st" && grep -a -q '"weight":{"dtype":"I32","shape":\[4\]' "$tmp/wc.st" &&
  ok || bad "weak-columns"
expect 2 "weak-columns of a raw stream" "is a raw stream, not a .safetensors file" -- weak-columns --k 4 -i "$tmp/a.f32"
# exit 0: every validation passes and every negative control (a broken layer or rounding run through
# its check) is caught; the verdict's other side, exit 1, is asserted by TrainControls.Verdict*
run train-check --json >"$tmp/tc.json" && grep -q '"failed": 0' "$tmp/tc.json" && grep -q '"uncaught": 0' "$tmp/tc.json" &&
  grep -q '"mutant": "wrong-weak-permutation"' "$tmp/tc.json" && ! grep -q '"caught": false' "$tmp/tc.json" &&
  ok || bad "train-check: every validation passes and every control is caught"
run train-check >"$tmp/tc.txt" && grep -q "^[1-9][0-9]* caught, 0 not caught$" "$tmp/tc.txt" && ok || bad "train-check's controls table"
expect 2 "finetune option" "does not take: --frobnicate" -- finetune --frobnicate
expect 2 "finetune task" "--task" -- finetune --task sparse
expect 2 "finetune --out with several seeds" "--out takes one seed" -- finetune --seed 1 --seed 2 --out "$tmp/ft"
[ ! -e "$tmp/ft" ] && ok || bad "finetune made its --out folder before refusing the arguments"

# ---- -o PATH (issue 13): a regular file is replaced atomically keeping its mode; a symlink's target
# is replaced; a FIFO or a device is written directly; a directory is refused, naming it
o=$tmp/okinds
mkdir -p "$o"
printf '\x00\x00\xe8\x43' >"$tmp/v464"  # 464 -> e4m3 0x7e
is7e() { [ "$(od -An -tx1 "$1" | tr -d ' ')" = 7e ]; }
printf old >"$o/mode600"
chmod 600 "$o/mode600"
run encode e4m3 -i "$tmp/v464" -o "$o/mode600" && is7e "$o/mode600" && [ "$(stat -c %a "$o/mode600")" = 600 ] &&
  ok || bad "-o keeps an existing file's mode: $(stat -c %a "$o/mode600")"
printf old >"$o/target"
ln -s target "$o/link"
run encode e4m3 -i "$tmp/v464" -o "$o/link" && [ -L "$o/link" ] && is7e "$o/target" && ok || bad "-o through a symlink replaces its target"
mkdir "$o/sub"
ln -s sub/new "$o/dangling"
run encode e4m3 -i "$tmp/v464" -o "$o/dangling" && [ -L "$o/dangling" ] && is7e "$o/sub/new" && ok || bad "-o through a dangling symlink creates its target"
printf old >"$o/hard1"
ln "$o/hard1" "$o/hard2"
run encode e4m3 -i "$tmp/v464" -o "$o/hard1" && is7e "$o/hard1" && [ "$(cat "$o/hard2")" = old ] && ok || bad "-o replaces a hard link's name only (documented)"
mkfifo "$o/fifo"
exec 3<>"$o/fifo"  # held open at both ends: lowbit's open does not wait, its byte waits in the pipe
run encode e4m3 -i "$tmp/v464" -o "$o/fifo"
rc=$?
timeout 60 head -c 1 <&3 >"$o/from_fifo"  # the timeout ends the read only if nothing was written
exec 3<&-
[ $rc -eq 0 ] && [ -p "$o/fifo" ] && is7e "$o/from_fifo" && ok || bad "-o FIFO is written directly (exit $rc)"
run encode e4m3 -i "$tmp/v464" -o /dev/null && [ -c /dev/null ] && ok || bad "-o /dev/null writes to the device"
[ -c /dev/null ] || bad "/dev/null is no longer a character device"
expect 2 "-o a directory" "'$o/sub' is a directory" -- encode e4m3 -i "$tmp/v464" -o "$o/sub"
expect 2 "-o a .npy directory" "'$o/d.npy' is a directory" -- encode e4m3 -i "$tmp/v464" -o "$(mkdir "$o/d.npy"; echo "$o/d.npy")"
expect 2 "-o in a missing folder: the errno of the call" "No such file or directory" -- encode e4m3 -i "$tmp/v464" -o "$o/none/x"
ls -A "$o" | grep -q '\.tmp\.' && bad "-o left a temporary file: $(ls -A "$o")" || ok

# ---- SIGINT / SIGTERM end a long command without leaving its temporary file; the status says killed
# (natively: under qemu-user the sweep's threads never start, and the signal is not delivered)
[ ${#emu[@]} -eq 0 ] && for sig in INT TERM; do
  set -m  # job control: a background command of a script otherwise ignores SIGINT
  "${emu[@]}" "$bin" sweep e4m3 --from f32 -o "$o/big_$sig" 2>/dev/null &
  pid=$!
  set +m
  for _ in $(seq 1200); do ls -A "$o" | grep -q "^big_$sig\.tmp\." && break; sleep 0.1; done
  kill -s "$sig" $pid
  wait $pid
  rc=$?
  [ $rc -eq $((128 + $(kill -l "$sig"))) ] && ok || bad "sweep killed by SIG$sig exits $rc"
  ls -A "$o" | grep -q "^big_$sig" && bad "SIG$sig left $(ls -A "$o" | grep "^big_$sig")" || ok
done

# ---- gen -o DIR: the set appears whole or not at all, in a missing or empty folder or over an older
# set; never written through a symlink in DIR; a folder of other files is refused
g=$tmp/gdir
run gen e4m3 --level boundary -o "$g" 2>/dev/null && run gen e5m2 --level boundary -o "$g" 2>/dev/null &&
  run verify e5m2 --golden "$g" --actual "$g/expected.npy" >/dev/null && ok || bad "gen over an older set replaces it"
mkdir "$o/empty_dir"
run gen e4m3 --level boundary -o "$o/empty_dir" 2>/dev/null && [ -f "$o/empty_dir/manifest.json" ] && ok || bad "gen into an empty folder"
printf keep >"$o/outside"
rm "$g/inputs.npy"
ln -s "$o/outside" "$g/inputs.npy"
expect 2 "gen over a set holding a symlink" "'$g' is not empty" -- gen e4m3 --level boundary -o "$g"
[ "$(cat "$o/outside")" = keep ] && ok || bad "gen wrote through a symlink in DIR"
mkdir "$o/project"
printf notes >"$o/project/notes.txt"
expect 2 "gen into a folder of other files" "'$o/project' is not empty" -- gen e4m3 --level boundary -o "$o/project"
[ "$(cat "$o/project/notes.txt")" = notes ] && [ "$(ls -A "$o/project")" = notes.txt ] && ok || bad "gen touched a folder it refused"
expect 2 "gen under a file" "Not a directory" -- gen e4m3 --level boundary -o "$o/mode600/set"
(ulimit -f 4; run gen e4m3 --level boundary -o "$o/fullset") >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "File too large" "$tmp/err" && ok || bad "gen on a full disk (ulimit -f): exit $rc: $(cat "$tmp/err")"
ls -A "$o" | grep -q "fullset" && bad "gen on a full disk left $(ls -A "$o" | grep fullset)" || ok
(ulimit -f 1; run encode e4m3 --from f16 -i "$tmp/f16in" -o "$o/full.u8") >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "cannot write '$o/full.u8': File too large" "$tmp/err" && ok || bad "-o on a full disk: exit $rc: $(cat "$tmp/err")"
ls -A "$o" | grep -q "full" && bad "-o on a full disk left $(ls -A "$o" | grep full)" || ok

# ---- Empty inputs (issue 13): every command, empty input -> empty output (an empty raw stream, a .npy
# of shape (0,), a valid empty container), exit 0; under ASan+UBSan no null pointer reaches memcpy
e=$tmp/empty
mkdir -p "$e"
: >"$e/in"
npy '<f4' '0,' "$e/in" "$e/in.npy"
size0() { [ -f "$1" ] && [ "$(wc -c <"$1")" -eq 0 ]; }
shape0() { grep -a -q "'shape': ($2)" "$1"; }
formats=$(run encode --help | awk 'tolower($0) ~ /^subcommands:/ { on = 1; next } on && /^  [a-z]/ { sub(/,$/, "", $1); print $1 }')
[ "$(echo "$formats" | wc -w)" -ge 10 ] && ok || bad "encode --help lists no formats: $formats"
for f in $formats; do
  if [ "$f" = qeft ] || [ "$f" = owq ]; then  # a layer of no output channel is refused: one line, exit 2
    st_f32 "$e/in" 0 128 "$e/w.st"
    expect 2 "empty $f weight" "the weight is empty (OC 0, IC 128" -- encode "$f" -i "$e/w.st" -o "$e/out_enc"
    continue
  fi
  in=$e/in in_npy=$e/in.npy
  rm -f "$e"/out*
  run encode "$f" -i "$in" -o "$e/out_enc" 2>"$tmp/err" && run decode "$f" -i "$e/out_enc" -o "$e/out_dec" 2>>"$tmp/err" &&
    run quantize "$f" -i "$in" -o "$e/out_q" 2>>"$tmp/err" || { bad "empty $f: $(cat "$tmp/err")"; continue; }
  size0 "$e/out_dec" && size0 "$e/out_q" && ok || bad "empty $f: decode or quantize gave bytes"
  run decode "$f" -i "$e/out_enc" -o "$e/out_dec.npy" && shape0 "$e/out_dec.npy" "0," &&
    run quantize "$f" -i "$in_npy" -o "$e/out_q.npy" && shape0 "$e/out_q.npy" "0," && ok || bad "empty $f: .npy of shape (0,)"
  run encode "$f" <"$e/in" >"$e/out_stdin" && cmp -s "$e/out_stdin" "$e/out_enc" && ok || bad "empty $f on standard input"
done
run encode e4m3 -i "$e/in.npy" -o "$e/codes.npy" && grep -a -q "'descr': '|u1', 'fortran_order': False, 'shape': (0,)" "$e/codes.npy" &&
  ok || bad "encode e4m3 of a .npy of shape (0,)"
run decode gse -i "$root/conformance/fuzz/corpus/gse_file/seed-b8-g32-empty.gse" -o "$e/gse.f32" && size0 "$e/gse.f32" && ok || bad "decode gse, n = 0"
run gemm gse --m 0 --n 0 --k 0 -a "$e/in" -b "$e/in" -o "$e/c.f32" && size0 "$e/c.f32" &&
  run gemm gse --m 0 --n 0 --k 0 -a "$e/in.npy" -b "$e/in" -o "$e/c.npy" && shape0 "$e/c.npy" "0, 0" && ok || bad "gemm gse --m 0 --n 0 --k 0"
run gemm gse --m 0 --n 3 --k 32 -a "$e/in" -b "$tmp/x100" -o "$e/c.npy" 2>/dev/null; [ $? -eq 2 ] && ok || bad "gemm: -b of 100 bytes for n 3 k 32"
head -c 384 "$tmp/x.f32" >"$e/b3"
run gemm gse --m 0 --n 3 --k 32 -a "$e/in" -b "$e/b3" -o "$e/c.npy" && shape0 "$e/c.npy" "0, 3" && ok || bad "gemm gse --m 0 --n 3"
st_f32 "$e/in" 0 35 "$e/act.st"  # no token: no column is weaker than another
expect 2 "weak-columns of no activation rows" "activations 'weight' hold no tokens" -- weak-columns --k 4 -i "$e/act.st" -o "$e/wc.st"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
