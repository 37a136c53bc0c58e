// The public QEFT and OWQ APIs (lowbit/qeft.hpp, lowbit/owq.hpp, lowbit/weak.hpp): encode gives the
// golden buffers of xvyaward/qeft and xvyaward/owq bit for bit, decode the golden weights of every
// kernel path, pack/unpack the golden codes; the defaults are the repos'; original order puts the
// weak columns back; weak-column selection is the reference's, once for both layouts; errors.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "error_code.hpp"
#include "lowbit/conformance/weak_suite.hpp"
#include "lowbit/io/files.hpp"
#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/owq.hpp"
#include "lowbit/qeft.hpp"
#include "lowbit/reference/weak.hpp"
#include "lowbit/reference/weak_select.hpp"
#include "testing/temp_dir.hpp"

namespace {

using namespace lowbit;
using conformance::GoldenDir;
using conformance::WeakGolden;
using conformance::WeakGoldenCase;

std::vector<std::uint32_t> bits(const std::vector<float>& v) {
  std::vector<std::uint32_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = std::bit_cast<std::uint32_t>(v[i]);
  return b;
}

std::vector<float> gaussian(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.03f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

template <class Options> Options options_of(const WeakGoldenCase& c) {
  Options o;
  o.bits = c.options.bits;
  o.group = c.options.group;
  o.sym = c.options.sym;
  o.tuning = c.options.tuning;
  o.grid = c.options.grid;
  return o;
}

std::vector<std::int32_t> weak_of(const WeakGolden& g, const WeakGoldenCase& c) {
  return c.k ? g.read<std::int32_t>(c.name, "weak_idx") : std::vector<std::int32_t>{};
}

TEST(QeftApi, EncodeDecodePackUnpackAreTheGoldenData) {
  const WeakGolden g(GoldenDir::from_env(), weak::Layout::qeft);
  ASSERT_EQ(g.cases().size(), 6u);
  for (const WeakGoldenCase& c : g.cases()) {
    SCOPED_TRACE(c.name);
    qeft::Options o = options_of<qeft::Options>(c);
    const qeft::Packed p = qeft::encode(c.oc, c.ic, g.read<float>(c.name, "w"), weak_of(g, c), o);
    EXPECT_EQ(p.qweight, g.read<std::int16_t>(c.name, "qweight"));
    EXPECT_EQ(p.scales, g.read<std::uint16_t>(c.name, "scales"));
    EXPECT_EQ(p.scaled_zeros, g.read<std::uint16_t>(c.name, "scaled_zeros"));
    if (c.k) {
      EXPECT_EQ(p.oweight, g.read<std::uint16_t>(c.name, "oweight"));
      EXPECT_EQ(p.oweight_interleaved, g.read<std::uint16_t>(c.name, "oweight_interleaved"));
      EXPECT_EQ(p.outlieridx, g.read<std::int32_t>(c.name, "outlieridx"));
    }
    EXPECT_NO_THROW(qeft::validate(p));
    const std::vector<std::uint8_t> codes = qeft::unpack(c.oc, c.ic, p.qweight);
    EXPECT_EQ(codes, g.read<std::uint8_t>(c.name, "codes"));
    EXPECT_EQ(qeft::pack(c.oc, c.ic, codes), p.qweight);
    o.order = qeft::Order::stored;
    EXPECT_EQ(bits(qeft::decode(p, o)), bits(g.read<float>(c.name, "deq")));
    o.path = qeft::Path::nowc;
    EXPECT_EQ(bits(qeft::decode(p, o)), bits(g.read<float>(c.name, "deq_nowc")));
  }
}

TEST(OwqApi, EncodeDecodePackUnpackAreTheGoldenData) {
  const WeakGolden g(GoldenDir::from_env(), weak::Layout::owq);
  ASSERT_EQ(g.cases().size(), 6u);
  for (const WeakGoldenCase& c : g.cases()) {
    SCOPED_TRACE(c.name);
    owq::Options o = options_of<owq::Options>(c);
    const owq::Packed p = owq::encode(c.oc, c.ic, g.read<float>(c.name, "w"), weak_of(g, c), o);
    EXPECT_EQ(p.qweight, g.read<std::int32_t>(c.name, "qweight"));
    EXPECT_EQ(p.scales, g.read<std::uint16_t>(c.name, "scales"));
    EXPECT_EQ(p.zeros, g.read<std::uint8_t>(c.name, "zeros"));
    if (c.k) {
      EXPECT_EQ(p.oweight, g.read<std::uint16_t>(c.name, "oweight"));
      EXPECT_EQ(p.outlieridx, g.read<std::int32_t>(c.name, "outlieridx"));
    }
    const std::vector<std::uint8_t> codes = owq::unpack(c.oc, c.ic, p.qweight, o);
    EXPECT_EQ(codes, g.read<std::uint8_t>(c.name, "codes"));
    EXPECT_EQ(owq::pack(c.oc, c.ic, codes, o), p.qweight);
    for (const auto& [path, file] : {std::pair{owq::Path::fp16, "deq"}, {owq::Path::fp32, "deq_fp32k"}, {owq::Path::nowc, "deq_nowc"}}) {
      o.path = path;
      EXPECT_EQ(bits(owq::decode(p, o)), bits(g.read<float>(c.name, file))) << file;
    }
  }
}

// encode -> a .safetensors file on disk -> the same buffers back, and matvec on them is the reference's.
TEST(QeftApi, PackedBuffersRoundTripThroughACheckpoint) {
  const std::size_t oc = 16, ic = 128;
  const qeft::Packed p = qeft::encode(oc, ic, gaussian(21, oc * ic), std::vector<std::int32_t>{2, 50, 51});
  const io::safetensors::File f = io::to_file(p, "layers.0.q_proj");
  const std::string path = fresh_temp_path("lowbit_api_qeft.safetensors");
  io::write_file(path, io::safetensors::write(f.tensors, f.metadata));
  const qeft::Packed back = io::qeft_from_file(io::safetensors::read(io::read_file(path)), "layers.0.q_proj");
  EXPECT_EQ(back, p);
  const std::vector<float> x = gaussian(22, ic);
  std::vector<float> y(oc), want(oc);
  qeft::matvec(back.view(), x, y);
  const qeft::Matrix m = p.view();
  ref::qeft_matvec_ref(&m, x.data(), want.data());
  EXPECT_EQ(bits(y), bits(want));
  try {
    io::read_file(path + ".missing");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
  }
}

// Default Options are the repos' defaults: QEFT mse, group 128, grid 1 (100 per channel); OWQ
// per channel, mse, grid 100.
TEST(WeakApi, DefaultOptionsAreTheRepos) {
  const std::size_t oc = 8, ic = 256;
  const std::vector<float> w = gaussian(3, oc * ic);
  const std::vector<std::int32_t> weak = {5, 70, 200};
  const auto want_qeft = [&](int group, int grid) {
    return ref::qeft_pack(ref::weak_quantize(weak::Layout::qeft, w, oc, ic, weak, {4, group, false, weak::Tuning::mse, grid}));
  };
  EXPECT_EQ(qeft::encode(oc, ic, w, weak), want_qeft(128, 1));
  qeft::Options per_channel;
  per_channel.group = 0;
  EXPECT_EQ(qeft::encode(oc, ic, w, weak, per_channel), want_qeft(0, 100));
  EXPECT_EQ(owq::encode(oc, ic, w, weak),
            ref::owq_pack(ref::weak_quantize(weak::Layout::owq, w, oc, ic, weak, {4, 0, false, weak::Tuning::mse, 100})));
}

// quantize = decode(encode), in the original order by default: only the 4-bit columns change, and
// the weak columns keep their fp16 values in place.
TEST(WeakApi, QuantizeIsEncodeThenDecodeInTheOriginalOrder) {
  const std::size_t oc = 16, ic = 128;
  const std::vector<float> w = gaussian(5, oc * ic);
  const std::vector<std::int32_t> weak = {3, 64, 127};
  qeft::Options o;
  o.group = 64;
  const std::vector<float> q = qeft::quantize(oc, ic, w, weak, o);
  EXPECT_EQ(bits(q), bits(qeft::decode(qeft::encode(oc, ic, w, weak, o), o)));
  o.order = qeft::Order::stored;
  const std::vector<float> stored = qeft::decode(qeft::encode(oc, ic, w, weak, o), o);
  const std::vector<std::int32_t> perm = qeft::permutation(weak, ic);
  for (std::size_t r = 0; r < oc; ++r)
    for (std::size_t j = 0; j < ic; ++j) ASSERT_EQ(stored[r * ic + j], q[r * ic + static_cast<std::size_t>(perm[j])]);
  for (std::int32_t c : weak) EXPECT_EQ(q[static_cast<std::size_t>(c)], ref::f16_to_f32(ref::f32_to_f16(w[static_cast<std::size_t>(c)])));
  std::vector<float> in_place = w;  // in and out may be the same buffer
  qeft::quantize(oc, ic, in_place, weak, std::span(in_place));
  EXPECT_EQ(bits(in_place), bits(qeft::quantize(oc, ic, w, weak)));

  std::vector<float> owq_in_place = w;
  owq::quantize(oc, ic, owq_in_place, weak, std::span(owq_in_place));
  EXPECT_EQ(bits(owq_in_place), bits(owq::decode(owq::encode(oc, ic, w, weak))));
}

TEST(WeakApi, ClampedCodesAreReported) {
  // Tiny weights on binary16's coarse subnormal grid (WeakQuantizer.TinyWeightsAreClampedAndReported).
  std::vector<float> w(8 * 64);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 1.55e-7f * static_cast<float>(i % 16) / 15.0f;
  std::vector<qeft::Clamp> clamped;
  qeft::Options o;
  o.group = 0;
  o.tuning = qeft::Tuning::minmax;
  const qeft::Packed p = qeft::encode(8, 64, w, {}, o, &clamped);
  std::vector<weak::Clamp> want;
  ref::weak_codes(ref::weak_quantize(weak::Layout::qeft, w, 8, 64, {}, {4, 0, false, weak::Tuning::minmax, 100}), &want);
  ASSERT_FALSE(want.empty());
  ASSERT_EQ(clamped.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(clamped[i].code, want[i].code);
  EXPECT_EQ(p.qweight.size(), 8u / 4 * 64);
}

TEST(WeakApi, SelectionIsTheReferenceOnceForBothLayouts) {
  const std::size_t tokens = 32, oc = 8, ic = 64;
  const std::vector<float> x = gaussian(9, tokens * ic), w = gaussian(10, oc * ic);
  std::vector<float> lambda = qeft::sensitivity(tokens, ic, x);
  EXPECT_EQ(bits(lambda), bits(ref::weak_sensitivity(x, tokens, ic)));
  const std::vector<float> frob = owq::frob_error(oc, ic, w);
  EXPECT_EQ(bits(frob), bits(ref::weak_frob_error(w, oc, ic, 4, weak::Tuning::mse)));
  owq::apply_frob_norm(lambda, frob);
  EXPECT_EQ(qeft::topk(lambda, 5), ref::weak_topk(lambda, 5));
  // One implementation: the names of both families are weak::'s.
  EXPECT_EQ(&qeft::topk, &owq::topk);
  EXPECT_EQ(&qeft::sensitivity, &owq::sensitivity);
  const std::vector<std::vector<float>> lambdas = {lambda, qeft::sensitivity(tokens, ic, gaussian(11, tokens * ic))};
  EXPECT_EQ(qeft::ogr_global(lambdas, 4), ref::ogr_global(lambdas, 4, qeft::OgrVariant::qeft));
  EXPECT_EQ(bits(qeft::ogr_scores(lambdas, 4, qeft::OgrVariant::per_layer_topk)),
            bits(ref::ogr_scores(lambdas, 4, qeft::OgrVariant::per_layer_topk)));
}

// A decoder of one block (d 4, a 2, ff 3): the global index moves residual column 1 last, o_proj's
// index attention column 0 (gathered at run time), down_proj's index MLP column 1.
TEST(WeakApi, ReorderModelPermutesAsThePlanSays) {
  qeft::DecoderModel m;
  m.vocab = 2, m.d = 4, m.a = 2, m.ff = 3;
  const auto iota = [](std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
    return v;
  };
  m.embedding = iota(8), m.final_norm = iota(4), m.head = iota(8);
  qeft::DecoderBlock b;
  b.attn_norm = iota(4), b.q = iota(8), b.k = iota(8), b.v = iota(8), b.o = iota(8), b.mlp_norm = iota(4);
  b.gate = iota(12), b.up = iota(12), b.down = iota(12);
  m.blocks = {b};
  const qeft::WeakPlan plan{{1}, {{0}}, {{1}}};
  const qeft::DecoderModel r = qeft::reorder_model(m, plan);
  EXPECT_EQ(r.embedding, (std::vector<float>{0, 2, 3, 1, 4, 6, 7, 5}));
  EXPECT_EQ(r.blocks[0].o_gather, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(r.blocks[0].down, (std::vector<float>{0, 2, 1, 6, 8, 7, 9, 11, 10, 3, 5, 4}));  // rows 0 2 3 1, columns 0 2 1
  const qeft::DecoderModel want = ref::reorder_model(m, plan);
  EXPECT_EQ(r.head, want.head);
  EXPECT_EQ(r.blocks[0].gate, want.blocks[0].gate);
}

TEST(WeakApi, ErrorsHaveTheirCodes) {
  const std::vector<float> w = gaussian(1, 8 * 64);
  EXPECT_EQ(error_code([&] { qeft::encode(4, 128, w, {}); }), Errc::invalid);  // OC % 8
  EXPECT_EQ(error_code([&] { qeft::encode(8, 64, w, std::vector<std::int32_t>{9, 3}); }), Errc::invalid);  // not ascending
  EXPECT_EQ(error_code([&] { owq::encode(8, 64, w, {}, owq::Options{.bits = 2}); }), Errc::invalid);
  qeft::Options o;
  o.group = 32;
  const qeft::Packed p = qeft::encode(8, 64, w, std::vector<std::int32_t>{7}, o);
  std::vector<float> short_out(8 * 64 - 1);
  EXPECT_EQ(error_code([&] { qeft::decode(p, std::span(short_out)); }), Errc::invalid);
  qeft::Packed corrupt = p;
  corrupt.scales.pop_back();
  EXPECT_EQ(error_code([&] { qeft::validate(corrupt); }), Errc::invalid);
  EXPECT_EQ(error_code([&] { qeft::decode(corrupt); }), Errc::invalid);
  std::vector<std::uint8_t> codes = qeft::unpack(8, 64, p.qweight);
  codes[100] = 16;
  EXPECT_EQ(error_code([&] { qeft::pack(8, 64, codes); }), Errc::data);
  std::vector<std::uint8_t> three_bit(8 * 64, 7);
  EXPECT_NO_THROW(owq::pack(8, 64, three_bit, owq::Options{.bits = 3}));
  three_bit[100] = 8;
  EXPECT_EQ(error_code([&] { owq::pack(8, 64, three_bit, owq::Options{.bits = 3}); }), Errc::data);
  std::vector<std::int16_t> qweight(1);
  EXPECT_EQ(error_code([&] { qeft::pack(8, 64, qeft::unpack(8, 64, p.qweight), std::span(qweight)); }), Errc::invalid);
  EXPECT_EQ(error_code([&] { qeft::topk(std::vector<float>{1, 2}, 2); }), Errc::invalid);
}

}  // namespace
