#include "lowbit/io/weak_checkpoint.hpp"

#include <fmt/format.h>

#include <charconv>

#include "lowbit/reference/weak.hpp"
#include "layout_names.hpp"
#include "reading.hpp"

namespace lowbit::io {
namespace {

using safetensors::make_tensor;
using U64 = std::uint64_t;
using namespace names::weak;

std::string key(const std::string& prefix, const char* name) { return prefix.empty() ? name : prefix + "." + name; }

[[noreturn]] void fail(const std::string& what) { throw Error(what, Errc::data); }

// The tensor `name` with dtype and exact shape, as values.
template <class T> std::vector<T> buffer(const safetensors::File& f, const std::string& name, std::string_view dtype,
                                         std::vector<U64> shape) {
  const safetensors::Tensor* t = f.find(name);
  if (!t) fail(fmt::format("the checkpoint has no tensor '{}'", name));
  if (t->shape != shape)
    fail(fmt::format("tensor '{}' has shape [{}], expected [{}]", name, fmt::join(t->shape, ", "), fmt::join(shape, ", ")));
  return safetensors::values<T>(*t, dtype);
}

const safetensors::Tensor& need(const safetensors::File& f, const std::string& name, std::string_view dtype, int rank) {
  const safetensors::Tensor* t = f.find(name);
  if (!t) fail(fmt::format("the checkpoint has no tensor '{}'", name));
  safetensors::expect_tensor(*t, dtype, rank);
  return *t;
}

std::optional<std::size_t> meta_number(const safetensors::File& f, const char* name) {
  const auto it = f.metadata.find(name);
  if (it == f.metadata.end()) return std::nullopt;
  // Decimal digits only (std::stoull took "-64" for 2^64 - 64 and skipped spaces), below 2^64.
  const std::string& s = it->second;
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (!s.empty() && ec == std::errc() && end == s.data() + s.size()) return v;
  fail(fmt::format("metadata {} = '{}' is not a number", name, it->second));
}

void expect_layout(const safetensors::File& f, std::string_view want) {
  const auto it = f.metadata.find("lowbit.layout");
  if (it != f.metadata.end() && it->second != want)
    fail(fmt::format("the checkpoint holds a {} layer, not {}", it->second, want));
}

void expect_meta(const safetensors::File& f, const char* name, std::size_t derived) {
  if (const auto v = meta_number(f, name); v && *v != derived)
    fail(fmt::format("metadata {} = {} disagrees with the buffers ({})", name, *v, derived));
}

}  // namespace

safetensors::File to_file(const qeft::Packed& p, const std::string& prefix) {
  ref::qeft_validate(p);
  safetensors::File f;
  f.tensors.push_back(make_tensor(key(prefix, kQweight), "I16", {p.oc / 4, p.ic}, p.qweight));
  f.tensors.push_back(make_tensor(key(prefix, kScales), "F16", {p.ic / p.group, p.oc}, p.scales));
  f.tensors.push_back(make_tensor(key(prefix, kScaledZeros), "F16", {p.ic / p.group, p.oc}, p.scaled_zeros));
  if (p.k) {
    f.tensors.push_back(make_tensor(key(prefix, kOweight), "F16", {p.oc, p.k}, p.oweight));
    f.tensors.push_back(make_tensor(key(prefix, kOweightInterleaved), "F16", {p.oc / 2, 2 * p.k}, p.oweight_interleaved));
    f.tensors.push_back(make_tensor(key(prefix, kOutlieridx), "I32", {p.k}, p.outlieridx));
  }
  f.metadata = {{"lowbit.layout", "qeft"}, {"lowbit.bits", "4"}, {"lowbit.in_features", std::to_string(p.ic)},
                {"lowbit.out_features", std::to_string(p.oc)}, {"lowbit.group_size", std::to_string(p.group)}};
  return f;
}

safetensors::File to_file(const owq::Packed& p, const std::string& prefix) {
  ref::owq_validate(p);
  safetensors::File f;
  f.tensors.push_back(make_tensor(key(prefix, kQweight), "I32", {owq::words(p.ic, p.bits), p.oc}, p.qweight));
  f.tensors.push_back(make_tensor(key(prefix, kScales), "F16", {p.oc, 1}, p.scales));
  f.tensors.push_back(make_tensor(key(prefix, kZeros), "U8", {p.oc / 2, 1}, p.zeros));
  f.tensors.push_back(make_tensor(key(prefix, kBias), "F16", {p.oc}, std::vector<std::uint16_t>(p.oc, 0)));
  f.tensors.push_back(make_tensor(key(prefix, kOweight), "F16", {p.k, p.oc}, p.oweight));
  f.tensors.push_back(make_tensor(key(prefix, kOutlieridx), "I32", {p.k}, p.outlieridx));
  f.metadata = {{"lowbit.layout", "owq"}, {"lowbit.bits", std::to_string(p.bits)}, {"lowbit.in_features", std::to_string(p.ic)},
                {"lowbit.out_features", std::to_string(p.oc)}};
  return f;
}

namespace {

qeft::Packed read_qeft(const safetensors::File& f, const std::string& prefix) {
  expect_layout(f, "qeft");
  qeft::Packed p;
  const safetensors::Tensor& qw = need(f, key(prefix, kQweight), "I16", 2);
  const safetensors::Tensor& sc = need(f, key(prefix, kScales), "F16", 2);
  p.oc = qw.shape[0] * 4;
  p.ic = qw.shape[1];
  if (sc.shape[0] == 0 || p.ic % sc.shape[0]) fail(fmt::format("scales has {} groups, which does not divide IC = {}", sc.shape[0], p.ic));
  p.group = p.ic / sc.shape[0];
  const safetensors::Tensor* ow = f.find(key(prefix, kOweight));
  if (ow && ow->shape.size() != 2) fail(fmt::format("oweight must have 2 dimensions, not {}", ow->shape.size()));
  p.k = ow ? ow->shape[1] : 0;
  if (const auto bits = meta_number(f, "lowbit.bits"); bits && *bits != 4) fail("QEFT checkpoints are 4-bit");
  expect_meta(f, "lowbit.in_features", p.ic);
  expect_meta(f, "lowbit.out_features", p.oc);
  expect_meta(f, "lowbit.group_size", p.group);
  p.qweight = buffer<std::int16_t>(f, key(prefix, kQweight), "I16", {p.oc / 4, p.ic});
  p.scales = buffer<std::uint16_t>(f, key(prefix, kScales), "F16", {p.ic / p.group, p.oc});
  p.scaled_zeros = buffer<std::uint16_t>(f, key(prefix, kScaledZeros), "F16", {p.ic / p.group, p.oc});
  if (p.k) {
    p.oweight = buffer<std::uint16_t>(f, key(prefix, kOweight), "F16", {p.oc, p.k});
    p.oweight_interleaved = buffer<std::uint16_t>(f, key(prefix, kOweightInterleaved), "F16", {p.oc / 2, 2 * p.k});
    p.outlieridx = buffer<std::int32_t>(f, key(prefix, kOutlieridx), "I32", {p.k});
    if (p.oweight_interleaved != ref::qeft_interleave_oweight(p.oweight, p.oc, p.k))
      fail("oweight_interleaved is not the interleaving of oweight");
  }
  ref::qeft_validate(p);
  return p;
}

}  // namespace

qeft::Packed qeft_from_file(const safetensors::File& f, const std::string& prefix) {
  return reading([&] { return read_qeft(f, prefix); });
}

namespace {

owq::Packed read_owq(const safetensors::File& f, const std::string& prefix, std::optional<int> bits) {
  expect_layout(f, "owq");
  owq::Packed p;
  const auto meta_bits = meta_number(f, "lowbit.bits");
  if (bits && meta_bits && static_cast<std::size_t>(*bits) != *meta_bits)
    fail(fmt::format("--bits {} disagrees with the checkpoint's {} bits", *bits, *meta_bits));
  if (!bits && !meta_bits) fail("an OWQ checkpoint without lowbit metadata needs the bit width (--bits 3|4)");
  if (!bits && *meta_bits != 3 && *meta_bits != 4)  // checked before the cast to int, which would wrap
    fail(fmt::format("OWQ stores 3 or 4 bits, not {}", *meta_bits));
  p.bits = bits ? *bits : static_cast<int>(*meta_bits);
  if (p.bits != 3 && p.bits != 4) fail(fmt::format("OWQ stores 3 or 4 bits, not {}", p.bits));
  const safetensors::Tensor& qw = need(f, key(prefix, kQweight), "I32", 2);
  p.oc = qw.shape[1];
  if (qw.shape[0] % static_cast<U64>(p.bits)) fail(fmt::format("qweight has {} rows, not a multiple of {} bits", qw.shape[0], p.bits));
  p.ic = qw.shape[0] / static_cast<U64>(p.bits) * 32;
  const safetensors::Tensor& ow = need(f, key(prefix, kOweight), "F16", 2);
  p.k = ow.shape[0];
  expect_meta(f, "lowbit.in_features", p.ic);
  expect_meta(f, "lowbit.out_features", p.oc);
  p.qweight = buffer<std::int32_t>(f, key(prefix, kQweight), "I32", {owq::words(p.ic, p.bits), p.oc});
  p.scales = buffer<std::uint16_t>(f, key(prefix, kScales), "F16", {p.oc, 1});
  p.zeros = buffer<std::uint8_t>(f, key(prefix, kZeros), "U8", {p.oc / 2, 1});
  p.oweight = buffer<std::uint16_t>(f, key(prefix, kOweight), "F16", {p.k, p.oc});
  p.outlieridx = buffer<std::int32_t>(f, key(prefix, kOutlieridx), "I32", {p.k});
  if (const safetensors::Tensor* b = f.find(key(prefix, kBias)))
    if (b->dtype != "F16" || b->shape != std::vector<U64>{p.oc}) fail("tensor 'bias' must be F16 [OC]");
  ref::owq_validate(p);
  return p;
}

}  // namespace

owq::Packed owq_from_file(const safetensors::File& f, const std::string& prefix, std::optional<int> bits) {
  return reading([&] { return read_owq(f, prefix, bits); });
}

}  // namespace lowbit::io
