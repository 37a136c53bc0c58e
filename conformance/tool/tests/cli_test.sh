#!/usr/bin/env bash
# End-to-end checks of the lowbit tool: streams, errors (one line, non-zero exit, no output file
# left behind), sweeps and shards against the golden data.
# Usage: cli_test.sh LOWBIT GOLDEN_DIR [EMULATOR...]
set -u
bin=$1 golden=$2
shift 2
run() { "${emu[@]}" "$bin" "$@"; }
emu=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_error() {  # expect_error NAME EXPECTED_SUBSTRING -- ARGS...
  local name=$1 want=$2
  shift 3
  run "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  local rc=$?
  if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "$name: stderr is not one line:"; cat "$tmp/err"; return; fi
  grep -q -- "$want" "$tmp/err" && ok || bad "$name: stderr lacks '$want': $(cat "$tmp/err")"
}

# Sweeps of the 16-bit inputs equal the golden tables byte for byte.
for spec in "e4m3 f16 ml_dtypes f16_to_e4m3fn" "e5m2 bf16 ml_dtypes bf16_to_e5m2" \
            "e4m3 bf16 cuda-satfinite cuda_satfinite_bf16_to_e4m3" "e5m2 f16 ml_dtypes-sat mld_sat_f16_to_e5m2" \
            "e5m2 f16 cuda-nosat cuda_nosat_f16_to_e5m2"; do
  set -- $spec
  run sweep "$1" --from "$2" --profile "$3" -o "$tmp/sweep" && cmp -s "$tmp/sweep" "$golden/fp8/$4.u8" \
    && ok || bad "sweep $spec"
done

# Shards concatenate to the whole sweep.
run sweep e4m3 --from f16 >"$tmp/whole"
: >"$tmp/joined"
for i in 0 1 2; do run sweep e4m3 --from f16 --shard "$i/3" >>"$tmp/joined"; done
cmp -s "$tmp/whole" "$tmp/joined" && ok || bad "shards 0..2 of 3 differ from the whole sweep"

# encode reads the stream and matches the sweep; decode inverts it on every finite code.
python3 - "$tmp/f16in" <<'PY' 2>/dev/null || printf '' >"$tmp/f16in"
import struct, sys
open(sys.argv[1], "wb").write(b"".join(struct.pack("<H", i) for i in range(65536)))
PY
if [ -s "$tmp/f16in" ]; then
  run encode e4m3 --from f16 -i "$tmp/f16in" -o "$tmp/enc" && cmp -s "$tmp/enc" "$tmp/whole" && ok || bad "encode f16 stream"
fi
printf '\x00\x01\x7b\xfb\x7c' | run decode e5m2 --to f16 >"$tmp/dec" && \
  [ "$(od -An -tx2 "$tmp/dec" | tr -s ' ')" = " 0000 0100 7b00 fb00 7c00" ] && ok || bad "decode e5m2 -> f16"
printf '\x7e' | run decode e4m3 --to f32 | od -An -tx4 | grep -q 43e00000 && ok || bad "decode 0x7e -> 448"
printf '\x00\x00\xe8\x43' | run encode e4m3 --from f32 | od -An -tx1 | grep -q 7e && ok || bad "encode 464 -> 0x7e"
printf '\x00\x00\xf0\x43' | run encode e4m3 --from f32 --rounding rtz | od -An -tx1 | grep -q 7e && ok || bad "rtz 480 -> max"
printf '\x00\x00\xf0\x43' | run encode e4m3 --from f32 | od -An -tx1 | grep -q 7f && ok || bad "rne 480 -> NaN"

# .npy streams: the same elements as the raw ones, 1-D arrays of the command's dtype.
if [ -s "$tmp/f16in" ]; then
  run encode e4m3 --from f16 -i "$tmp/f16in" -o "$tmp/enc.npy" && head -c 6 "$tmp/enc.npy" | od -An -c | grep -q "N   U   M   P   Y" \
    && grep -a -q "'descr': '|u1', 'fortran_order': False, 'shape': (65536,)" "$tmp/enc.npy" && ok || bad "encode -> .npy header"
  run decode e4m3 --to f16 -i "$tmp/enc.npy" -o "$tmp/dec.npy" && run decode e4m3 --to f16 -i "$tmp/enc" -o "$tmp/dec.raw" \
    && grep -a -q "'descr': '<f2'" "$tmp/dec.npy" && [ "$(tail -c 131072 "$tmp/dec.npy" | od -An -tx1)" = "$(od -An -tx1 "$tmp/dec.raw")" ] \
    && ok || bad "decode .npy -> .npy equals the raw stream"
  run encode e4m3 --from f16 -i "$tmp/dec.npy" -o "$tmp/enc2" && run encode e4m3 --from f16 -i "$tmp/dec.raw" -o "$tmp/enc3" \
    && cmp -s "$tmp/enc2" "$tmp/enc3" && ok || bad "a .npy input reads as its elements"
  expect_error "npy dtype size" "holds <f2 (2-byte elements), expected 4-byte elements" -- encode e4m3 --from f32 -i "$tmp/dec.npy"
  expect_error "npy container output" "is a file format of its own" -- encode gse --from f32 -i "$tmp/dec.raw" -o "$tmp/gse.npy"
  head -c 100 "$tmp/enc.npy" >"$tmp/cut.npy"
  expect_error "truncated npy" "npy" -- decode e4m3 --to f32 -i "$tmp/cut.npy"
fi

# Errors: one line on stderr, non-zero exit, no output file.
expect_error "odd length" "not a multiple" -- encode e4m3 --from f32 -i "$golden/fp8/cuda_rn_f32_to_e2m1.runs" -o "$tmp/never"
[ -e "$tmp/never" ] && bad "output file left after failure" || ok
ls "$tmp" | grep -q tmp && bad "temporary file left after failure" || ok
expect_error "unknown format" "unknown format 'e3m4'" -- encode e3m4 --from f32
expect_error "unknown profile" "unknown FP8 profile 'cuda'" -- encode e4m3 --from f32 --profile cuda
expect_error "unknown rounding" "unknown rounding" -- encode e4m3 --from f32 --rounding up
expect_error "unknown source" "--from" -- encode e4m3 --from f8
expect_error "unknown option" "--frobnicate" -- encode e4m3 --from f32 --frobnicate
expect_error "unreadable file" "cannot read" -- encode e4m3 --from f32 -i "$tmp/does-not-exist"
expect_error "bad shard" "bad --shard" -- sweep e4m3 --from f16 --shard 3/3
expect_error "no subcommand" "subcommand" --
run list | grep -q cuda-satfinite && ok || bad "list shows the profiles"

# GSE and MX: the .gse stream round trip equals fake quantization; MXINT8 is a GSE format.
cat "$golden/fp8/f32_to_e4m3fn.runs" | od -An -v -tu1 | tr -s ' ' '\n' | grep -v '^$' |
  awk '{ printf "%c%c%c%c", 0, $1 % 128, 0, 60 + $1 % 8 }' >"$tmp/x.f32"  # 1280 finite floats
run encode gse --bits 6 --group 64 -i "$tmp/x.f32" -o "$tmp/x.gse" && ok || bad "encode gse"
[ "$(head -c 4 "$tmp/x.gse")" = "LBGS" ] && ok || bad ".gse magic"
run decode gse -i "$tmp/x.gse" -o "$tmp/y.f32" && run quantize gse --bits 6 --group 64 -i "$tmp/x.f32" -o "$tmp/z.f32" &&
  cmp -s "$tmp/y.f32" "$tmp/z.f32" && ok || bad "decode(encode) differs from quantize"
run quantize mxint8 -i "$tmp/x.f32" -o "$tmp/m1.f32" &&
  run quantize gse --bits 8 --group 32 --exp-bits 8 --exponent-overflow nan --rounding rna -i "$tmp/x.f32" -o "$tmp/m2.f32" &&
  cmp -s "$tmp/m1.f32" "$tmp/m2.f32" && ok || bad "mxint8 differs from its GSE format"
for f in mxfp8-e4m3 mxfp8-e5m2 mxfp6-e3m2 mxfp6-e2m3 mxfp4-e2m1; do
  run quantize "$f" --rounding even -i "$tmp/x.f32" -o "$tmp/q.f32" && [ "$(wc -c <"$tmp/q.f32")" -eq 5120 ] && ok || bad "quantize $f"
done
head -c 280 "$tmp/x.f32" >"$tmp/a.f32"; head -c 560 "$tmp/x.f32" >"$tmp/b.f32"
run gemm gse --m 2 --n 4 --k 35 -a "$tmp/a.f32" -b "$tmp/b.f32" -o "$tmp/c.f32" && [ "$(wc -c <"$tmp/c.f32")" -eq 32 ] && ok || bad "gemm"
expect_error "gemm shape" "needs 72" -- gemm gse --m 2 --n 4 --k 36 -a "$tmp/a.f32" -b "$tmp/b.f32"
head -c 100 "$tmp/x.gse" >"$tmp/short.gse"
expect_error "truncated .gse" "payload bytes" -- decode gse -i "$tmp/short.gse" -o "$tmp/never"
expect_error "not a .gse" "no LBGS header" -- decode gse -i "$tmp/x.f32"
expect_error "bad group" "group must be" -- encode gse --group 33 -i "$tmp/x.f32"
expect_error "gse option on fp8" "--bits applies to the gse format only" -- encode e4m3 --bits 4 -i "$tmp/x.f32"
expect_error "unknown block format" "unknown block format" -- quantize mxfp9 -i "$tmp/x.f32"

# NF4: bitsandbytes' tensors in .safetensors, bit-exact with the golden bnb CPU dequantization.
run encode nf4 --profile bnb-cpu --double-quant -i "$golden/nf4/tail357.in.f32" -o "$tmp/w.safetensors" &&
  run decode nf4 -i "$tmp/w.safetensors" -o "$tmp/w.f32" && cmp -s "$tmp/w.f32" "$golden/nf4/tail357.bnbcpu.dq.deq.f32" &&
  ok || bad "nf4 double-quant round trip differs from bitsandbytes"
run encode fp4 --block 128 -i "$tmp/x.f32" -o "$tmp/f.safetensors" && run decode fp4 -i "$tmp/f.safetensors" -o "$tmp/f.f32" &&
  [ "$(wc -c <"$tmp/f.f32")" -eq 5120 ] && ok || bad "fp4 round trip"
head -c 100 "$tmp/w.safetensors" >"$tmp/short.safetensors"
expect_error "truncated safetensors" "safetensors" -- decode nf4 -i "$tmp/short.safetensors" -o "$tmp/never"
expect_error "wrong 4-bit type" "holds nf4 weights, not fp4" -- decode fp4 -i "$tmp/w.safetensors"
expect_error "bad block" "block must be a power of two" -- encode nf4 --block 48 -i "$tmp/x.f32"
expect_error "nf4 option on fp8" "--block applies to the nf4/fp4 format only" -- encode e4m3 --block 64 -i "$tmp/x.f32"
expect_error "dq option without dq" "need --double-quant" -- encode nf4 --dq-offset 1 -i "$tmp/x.f32"

# OWQ / QEFT: pack the golden weights, unpack each kernel path: bit-exact with the golden weights.
st_f32() {  # st_f32 RAW OC IC OUT: a .safetensors holding RAW as the F32 tensor 'weight' [OC, IC]
  local n hdr
  n=$(wc -c <"$1")
  hdr=$(printf '{"weight":{"dtype":"F32","shape":[%d,%d],"data_offsets":[0,%d]}}' "$2" "$3" "$n")
  while [ $(( ${#hdr} % 8 )) -ne 0 ]; do hdr="$hdr "; done
  { printf "$(printf '\\x%02x' $((${#hdr} & 255)) $(((${#hdr} >> 8) & 255)) 0 0 0 0 0 0)"; printf '%s' "$hdr"; cat "$1"; } >"$4"
}
for c in q_rand_128x384_k32 q_edge_128x256_k64 q_rand_128x256_k0; do
  dims=${c#*_*_}; dims=${dims%_k*}; weak=()
  [ -e "$golden/qeft/$c.weak_idx.i32" ] && weak=(--weak-idx "$golden/qeft/$c.weak_idx.i32")
  st_f32 "$golden/qeft/$c.w.f32" "${dims%x*}" "${dims#*x}" "$tmp/w.st"
  size=$(wc -c <"$golden/qeft/$c.deq.f32")
  run pack qeft --tuning minmax "${weak[@]}" -i "$tmp/w.st" -o "$tmp/p.st" && run unpack qeft -i "$tmp/p.st" -o "$tmp/d.st" &&
    tail -c "$size" "$tmp/d.st" | cmp -s - "$golden/qeft/$c.deq.f32" && ok || bad "qeft pack/unpack $c"
  run unpack qeft --path nowc -i "$tmp/p.st" -o "$tmp/d.st" && tail -c "$size" "$tmp/d.st" | cmp -s - "$golden/qeft/$c.deq_nowc.f32" &&
    ok || bad "qeft unpack --path nowc $c"
done
for c in o3_edge_128x256_k8 o4_rand_256x512_k16 o3_rand_128x256_k0; do
  dims=${c#*_*_}; dims=${dims%_k*}; weak=(); bits=${c:1:1}
  [ -e "$golden/owq/$c.weak_idx.i32" ] && weak=(--weak-idx "$golden/owq/$c.weak_idx.i32")
  st_f32 "$golden/owq/$c.w.f32" "${dims%x*}" "${dims#*x}" "$tmp/w.st"
  size=$(wc -c <"$golden/owq/$c.deq.f32")
  run pack owq --bits "$bits" --tuning minmax "${weak[@]}" -i "$tmp/w.st" -o "$tmp/p.st" || bad "owq pack $c"
  for path in "fp16 deq" "fp32 deq_fp32k" "nowc deq_nowc"; do
    set -- $path
    run unpack owq --path "$1" -i "$tmp/p.st" -o "$tmp/d.st" && tail -c "$size" "$tmp/d.st" | cmp -s - "$golden/owq/$c.$2.f32" &&
      ok || bad "owq unpack --path $1 $c"
  done
done
c=q_rand_128x256_k64
st_f32 "$golden/qeft/$c.w.f32" 128 256 "$tmp/w.st"
run pack qeft --tuning minmax --weak-idx "$golden/qeft/$c.weak_idx.i32" -i "$tmp/w.st" -o "$tmp/p.st" &&
  run unpack qeft --order original -i "$tmp/p.st" -o "$tmp/o.st" && run unpack qeft -i "$tmp/p.st" -o "$tmp/s.st" &&
  ! cmp -s "$tmp/o.st" "$tmp/s.st" && ok || bad "unpack --order original differs from the stored order"
run pack qeft -i "$tmp/w.st" -o "$tmp/mse.st" && run pack qeft --tuning mse --grid 1 -i "$tmp/w.st" -o "$tmp/mse1.st" &&
  cmp -s "$tmp/mse.st" "$tmp/mse1.st" && ok || bad "qeft's default is mse with a grid of 1"
expect_error "qeft 3-bit" "QEFT is 4-bit only" -- pack qeft --bits 3 -i "$tmp/w.st" -o "$tmp/never"
expect_error "owq groups" "OWQ quantizes per channel" -- pack owq --group 128 -i "$tmp/w.st" -o "$tmp/never"
expect_error "weak idx length" "not a multiple of 4" -- pack qeft --weak-idx "$golden/nf4/divmul.bnbcpu.dq.qabsmax.u8" -i "$tmp/w.st" -o "$tmp/never"
printf '\x05\0\0\0\x02\0\0\0' >"$tmp/bad.i32"
expect_error "weak idx order" "ascending" -- pack qeft --weak-idx "$tmp/bad.i32" -i "$tmp/w.st" -o "$tmp/never"
expect_error "no weight tensor" "no tensor named 'weight'" -- pack qeft -i "$tmp/p.st" -o "$tmp/never"
expect_error "unpack wrong layout" "holds a qeft layer, not owq" -- unpack owq -i "$tmp/p.st" -o "$tmp/never"
expect_error "unpack bad path" "unknown QEFT --path" -- unpack qeft --path fp32 -i "$tmp/p.st" -o "$tmp/never"
expect_error "grid without mse" "--grid applies" -- pack qeft --tuning minmax --grid 4 -i "$tmp/w.st" -o "$tmp/never"
[ -e "$tmp/never" ] && bad "output file left after a failed pack" || ok
run conform --format qeft --json >"$tmp/conform.json" && grep -q '"failed": 0' "$tmp/conform.json" &&
  grep -q '"seconds"' "$tmp/conform.json" && ok || bad "conform --json"
run conform --format nf4 | grep -q "seconds" && ok || bad "conform table has a time column"
run conform --format gse-gemm --json >"$tmp/gemm.json" && grep -q '"format": "gse-gemm"' "$tmp/gemm.json" &&
  grep -q '"profile": "fp32"' "$tmp/gemm.json" && grep -q '"failed": 0' "$tmp/gemm.json" && ok || bad "conform --format gse-gemm"

# lowbit gen / verify of an MX set and an NF4 set with double quantization.
run gen mxfp4-e2m1 --level boundary -o "$tmp/mx" 2>/dev/null && run verify mxfp4-e2m1 --golden "$tmp/mx" --actual "$tmp/mx" |
  grep -q "tests, no errors found" && ok || bad "gen/verify mxfp4-e2m1"
run gen mxfp4-e2m1 --rounding floor --level boundary -o "$tmp/mx_floor" 2>/dev/null
run verify mxfp4-e2m1 --golden "$tmp/mx_floor" --actual "$tmp/mx/elem_expected.npy" >"$tmp/out"
[ $? -eq 1 ] && grep -q "elements tie" "$tmp/out" && ok || bad "verify mxfp4-e2m1 of wrong outputs exits 1"
run gen nf4 --double-quant --level boundary -o "$tmp/dq" 2>/dev/null && run verify nf4 --golden "$tmp/dq" --actual "$tmp/dq" |
  grep -q "tests, no errors found" && ok || bad "gen/verify nf4 --double-quant"
expect_error "gen mx double-quant" "--double-quant applies to the nf4/fp4 format only" -- gen mxfp8-e4m3 --double-quant --level boundary -o "$tmp/never"
expect_error "gen mx block" "--block applies to the nf4/fp4 format only" -- gen mxfp8-e5m2 --block 64 --level boundary -o "$tmp/never"
expect_error "gen unknown mx" "unknown format 'mxfp8'" -- gen mxfp8 --level boundary -o "$tmp/never"

# lowbit gen qeft|owq|gse-gemm: sets verify against themselves; the tolerance mode reports its bounds.
run gen qeft --tuning minmax --level boundary -o "$tmp/gq" 2>/dev/null && run verify qeft --golden "$tmp/gq" --actual "$tmp/gq" |
  grep -q "tests, no errors found" && ok || bad "gen/verify qeft"
run gen owq --bits 3 --level boundary -o "$tmp/go" 2>/dev/null && run verify owq --golden "$tmp/go" --actual "$tmp/go" >/dev/null &&
  ok || bad "gen/verify owq"
run gen gse-gemm --accumulate fp32 --m 3 --n 9 --level boundary -o "$tmp/gg" 2>/dev/null &&
  run verify gse-gemm --tolerance --golden "$tmp/gg" --actual "$tmp/gg/other.npy" | grep -q "worst |got - expected| / bound" &&
  ok || bad "verify gse-gemm --tolerance accepts the exact result"
run verify gse-gemm --golden "$tmp/gg" --actual "$tmp/gg/other.npy" >/dev/null
[ $? -eq 1 ] && ok || bad "verify gse-gemm: the exact result is not the fp32 one bit for bit"
expect_error "gen qeft 3 bits" "QEFT is 4-bit only" -- gen qeft --bits 3 --level boundary -o "$tmp/never"
expect_error "gen gemm option" "--m applies to the gse-gemm format only" -- gen qeft --m 4 --level boundary -o "$tmp/never"
expect_error "gen weak option" "--weak applies to the qeft/owq format only" -- gen gse-gemm --weak 4 --level boundary -o "$tmp/never"
expect_error "verify tolerance" "defines no tolerance" -- verify qeft --tolerance --golden "$tmp/gq" --actual "$tmp/gq"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
