#include "lowbit/conformance/fp8_suite.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "lowbit/conformance/cases.hpp"
#include "lowbit/conformance/p3109_spec.hpp"
#include "lowbit/conformance/sha256.hpp"
#include "lowbit/conformance/sweep.hpp"
#include "lowbit/kernels.hpp"
#include "lowbit/reference/fp8.hpp"

namespace lowbit::conformance {

std::vector<const fp8::Profile*> Fp8SuiteOptions::all_profiles() {
  std::vector<const fp8::Profile*> out;
  for (const fp8::Profile& p : fp8::kProfiles) out.push_back(&p);
  return out;
}

namespace {

bool is_cuda(const fp8::Profile& p) { return p.nan_decode == fp8::NanDecode::cuda; }

// ml_dtypes' name without its floatN_ prefix (e4m3fn, e8m0fnu, e2m1fn): the golden data's name.
std::string golden_format_name(fp8::Format f) {
  const std::string_view s = traits(f).ml_dtypes;
  return std::string(s.substr(s.find('_') + 1));
}

bool is_ocp_fp8(fp8::Format f) { return fp8::kOcpFp8 & fp8::format_bit(f); }

// The golden data of ml_dtypes spells E4M3 "e4m3fn", CUDA's "e4m3".
std::string golden_format_name(const fp8::Profile& p, fp8::Format f) {
  return is_cuda(p) ? std::string(traits(f).name) : golden_format_name(f);
}

std::string golden_prefix(const fp8::Profile& p) {
  std::string s(p.name == "ml_dtypes" ? "" : p.name == "ml_dtypes-sat" ? "mld_sat" : p.name);
  for (char& c : s) c = c == '-' ? '_' : c;
  return s.empty() ? s : s + "_";
}

// The f16, bf16 and f64 golden encodings of a profile in one rounding: {source, file} pairs.
struct GoldenEncodings {
  Rounding rounding;
  std::vector<std::pair<std::string, std::string>> files;
};

// gfloat's (p3109/) and APFloat's (llvm/) sets: 16-bit tables and f32 streams as run lists, f64 vectors.
GoldenEncodings peer_set(std::string_view dir, fp8::Format f, std::string_view mode, Rounding r,
                         std::vector<const char*> sources) {
  GoldenEncodings g{r, {}};
  for (const char* src : sources)
    g.files.emplace_back(src, fmt::format("{}/{}.from_{}.{}.{}", dir, traits(f).name, src, mode,
                                          std::string_view(src) == "f64" ? "vec" : "runs"));
  return g;
}

// ml_dtypes' tables (minifloat/): rne and truncation (rtz) for profile ml_dtypes, the saturating rne
// for ml_dtypes-sat; CUDA's (fp8/): rne; APFloat's (llvm/) and gfloat's (p3109/) in their modes.
std::vector<GoldenEncodings> golden_encodings(const fp8::Profile& p, fp8::Format f) {
  const auto minifloat = [&](std::string_view mode, Rounding r) {
    GoldenEncodings g{r, {}};
    for (auto [src, ext] : {std::pair{"f16", "u8"}, {"bf16", "u8"}, {"f64", "vec"}})
      g.files.emplace_back(src, fmt::format("minifloat/{}.from_{}.{}.{}", golden_format_name(f), src, mode, ext));
    return g;
  };
  if (p.name == "ml_dtypes") return {minifloat("rne", Rounding::rne), minifloat("rtz", Rounding::rtz)};
  if (p.name == "ml_dtypes-sat") return {minifloat("sat", Rounding::rne)};
  if (p.name == "llvm") {  // LLVM 16's APFloat, measured: E4M3FN and E5M2 (the FNUZ semantics came in LLVM 17)
    std::vector<GoldenEncodings> out;
    if (!is_ocp_fp8(f)) return out;
    for (auto [mode, r] : {std::pair{"rne", Rounding::rne}, {"rna", Rounding::rna}, {"rtz", Rounding::rtz}})
      out.push_back(peer_set("llvm", f, mode, r, {"f16", "bf16", "f32", "f64"}));
    return out;
  }
  if (p.name.starts_with("p3109")) {
    std::vector<GoldenEncodings> out;
    // gfloat's (signed formats): its rna f64 vectors hold its binary64 tie-test artifacts
    // (golden/p3109/README): the reference test explains each; the suite takes the 16-bit tables of that mode.
    if (traits(f).is_signed && p.name == "p3109")
      out = {peer_set("p3109", f, "rne", Rounding::rne, {"f16", "bf16", "f64"}),
             peer_set("p3109", f, "rna", Rounding::rna, {"f16", "bf16"}),
             peer_set("p3109", f, "rtz", Rounding::rtz, {"f16", "bf16", "f64"})};
    if (traits(f).is_signed && p.name == "p3109-satfinite") out = {peer_set("p3109", f, "sat", Rounding::rne, {"f16", "bf16", "f64"})};
    // p3109-cpp's, the draft's reference implementation: every mode of the profile it defines.
    for (const P3109SpecMode& m : kP3109SpecModes) {
      if (m.profile != p.name) continue;
      GoldenEncodings g{m.rounding, {}};
      for (const char* src : {"f16", "bf16", "f64"})
        if (p3109_spec_has(f, m, src)) g.files.emplace_back(src, p3109_spec_file(f, m, src));
      if (!g.files.empty()) out.push_back(std::move(g));
    }
    return out;
  }
  if (!is_cuda(p)) return {};
  if (f == fp8::Format::e8m0) {  // __nv_cvt_float_to_e8m0: cudaRoundZero, cudaRoundPosInf (the f32 streams)
    const char* sat = p.saturate_finite ? "satfinite" : "nosat";
    return {{Rounding::rtz, {{"f32", fmt::format("fp8/cuda_rz_{}_f32_to_e8m0.runs", sat)}}},
            {Rounding::rtp, {{"f32", fmt::format("fp8/cuda_rp_{}_f32_to_e8m0.runs", sat)}}}};
  }
  GoldenEncodings g{Rounding::rne, {}};
  if (!(fp8::kOcpFp8 & fp8::format_bit(f)))  // CUDA's FP6/FP4: the f32 streams (cudaRoundNearest)
    return {{Rounding::rne, {{"f32", fmt::format("fp8/cuda_rn_f32_to_{}.runs", traits(f).name)}}}};
  for (auto [src, ext] : {std::pair{"f16", "u8"}, {"bf16", "u8"}, {"f64", "vec"}})
    g.files.emplace_back(src, fp8_golden_encode_file(p, f, src, ext));
  return {g};
}

// The golden decode table of a profile (f32 bits), if one exists (else empty): CUDA's are f16 (decode_checks).
std::string golden_decode_file(const fp8::Profile& p, fp8::Format f) {
  if (p.name == "llvm") return is_ocp_fp8(f) ? fmt::format("llvm/{}.decode.u32", traits(f).name) : "";
  if (p.name.starts_with("p3109"))
    return fmt::format("{}/{}.decode.u32", traits(f).is_signed ? "p3109" : "p3109-spec", traits(f).name);
  // CUDA's FP6/FP4 have no NaN: their values are ml_dtypes' (cuda_fp6.hpp decodes exactly).
  return fmt::format("minifloat/{}.decode.u32", golden_format_name(f));
}

template <class T> std::string show(T x) {
  using Tr = FloatTraits<T>;
  return fmt::format("{} 0x{:0{}x}", name(Tr::type), Tr::to_bits(x), Tr::layout.total_bits() / 4);
}

template <class T> std::vector<T> all16() {
  std::vector<T> v(65536);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = T{static_cast<std::uint16_t>(i)};
  return v;
}

template <class T, class Bits> std::vector<T> from_bits(const std::vector<Bits>& bits) {
  std::vector<T> v(bits.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = FloatTraits<T>::from_bits(bits[i]);
  return v;
}

class Runner {
 public:
  Runner(const fp8::Impl& impl, const GoldenDir& g, const Fp8SuiteOptions& o, fp8::Format f,
         const fp8::Profile& p, std::vector<Check>& out)
      : impl_(impl), g_(g), o_(o), f_(f), p_(p), out_(out) {}

  void run() {
    golden_checks();
    if (!is_reference()) reference_checks();  // the reference against itself would prove nothing
  }

 private:
  bool is_reference() const {
    const fp8::Impl& r = kernels::fp8_reference;
    return impl_.encode_f32 == r.encode_f32 && impl_.encode_f64 == r.encode_f64 &&
           impl_.encode_f16 == r.encode_f16 && impl_.encode_bf16 == r.encode_bf16 &&
           impl_.decode_f32 == r.decode_f32 && impl_.decode_f16 == r.decode_f16 &&
           impl_.decode_bf16 == r.decode_bf16;
  }

  bool in_scope(Rounding r) const { return std::find(o_.roundings.begin(), o_.roundings.end(), r) != o_.roundings.end(); }

  template <class Body> void check(std::string name, Body&& body) {
    run_check(out_, {impl_.name, std::string(traits(f_).name), std::string(p_.name), std::move(name)}, body);
  }

  fp8::EncodeParams params(FloatType source, Rounding r) const {
    return fp8::encode_params(f_, p_, source, r, o_.seed);
  }

  template <class In>
  void encode_check(std::string name, const std::vector<In>& in, const std::vector<std::uint8_t>& want,
                    Rounding r) {
    check(std::move(name), [&](Check& c) {
      const fp8::EncodeParams p = params(FloatTraits<In>::type, r);
      std::vector<std::uint8_t> got(in.size());
      fp8::encode_kernel<In>(impl_)(in.size(), in.data(), got.data(), &p);
      c.cases = in.size();
      const int width = traits(f_).width();
      for (std::size_t i = 0; i < in.size(); ++i)
        if (got[i] != want[i])
          c.mismatch(fmt::format("{} => got 0x{:02x} expected 0x{:02x}{}", show(in[i]), got[i], want[i],
                                 got[i] >> width ? fmt::format(" (bits above the {}-bit code)", width) : ""),
                     o_.max_errors);
    });
  }

  template <class Out>
  void decode_check(std::string name, const std::vector<std::uint64_t>& want) {
    check(std::move(name), [&](Check& c) {
      const fp8::DecodeParams p = fp8::decode_params(f_, p_);
      const std::vector<std::uint8_t> codes = all_codes();
      std::vector<Out> got(codes.size());
      fp8::decode_kernel<Out>(impl_)(codes.size(), codes.data(), got.data(), &p);
      c.cases = codes.size();
      if (want.size() != codes.size())
        c.mismatch(fmt::format("{} expected values for {} codes", want.size(), codes.size()), o_.max_errors);
      for (std::size_t i = 0; i < std::min(codes.size(), want.size()); ++i) {
        const std::uint64_t bits = FloatTraits<Out>::to_bits(got[i]);
        if (bits != want[i])
          c.mismatch(fmt::format("code 0x{:02x} => got {} expected 0x{:x}", i, show(got[i]), want[i]), o_.max_errors);
      }
    });
  }

  std::vector<std::uint8_t> all_codes() const {  // every code of the format, no bits above its width
    std::vector<std::uint8_t> codes(traits(f_).codes());
    for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i);
    return codes;
  }

  template <class In> std::vector<std::uint8_t> reference(const std::vector<In>& in, Rounding r) const {
    const fp8::EncodeParams p = params(FloatTraits<In>::type, r);
    std::vector<std::uint8_t> out(in.size());
    ref::fp8_encode_ref<In>(in.size(), in.data(), out.data(), &p);
    return out;
  }
  template <class Out> std::vector<std::uint64_t> reference_decode() const {
    const fp8::DecodeParams p = fp8::decode_params(f_, p_);
    std::vector<std::uint64_t> out;
    for (std::uint8_t code : all_codes()) out.push_back(FloatTraits<Out>::to_bits(ref::fp8_decode<Out>(code, p)));
    return out;
  }

  std::string file(std::string_view source, std::string_view ext) const {
    return fp8_golden_encode_file(p_, f_, source, ext);
  }

  void golden_checks() {
    golden_encode_checks();
    if (o_.level == Level::full) {
      // CI's budget: the stream of each format's default profile, but on the reference only against a
      // peer's digest (lowbit's own digests are the reference's codes: the SIMD rows check them); without
      // it every profile's stream and, for a kernel other than the reference, the rtz sweep against the
      // reference.
      const bool budget = o_.ci_budget;
      const std::optional<StreamDigest> digest = stream_digest();
      const bool own = digest && digest->source == "reference/f32_streams.sha256";
      if (in_scope(Rounding::rne) && digest && (!budget || (&p_ == &fp8::default_profile(f_) && !(own && is_reference()))))
        f32_stream_check(file("f32", "runs"), Rounding::rne, digest);
      // The peers' f32 run lists in their other roundings (APFloat's rna, rtz; CUDA's E8M0 rz, rp).
      for (const GoldenEncodings& set : golden_encodings(p_, f_))
        for (const auto& [src, name] : set.files)
          if (!budget && src == "f32" && set.rounding != Rounding::rne && in_scope(set.rounding))
            f32_stream_check(name, set.rounding, stream_digest(name));
      if (!budget && !is_reference() && in_scope(Rounding::rtz)) f32_reference_sweep(Rounding::rtz);
    }
    const std::string gname = golden_format_name(p_, f_);
    if (is_cuda(p_) && is_ocp_fp8(f_)) {
      const std::string name = fmt::format("fp8/cuda_{}_to_f16.u16", gname);
      const auto table = g_.array<std::uint16_t>(name);
      decode_check<f16>("decode f16 -> " + name, {table.begin(), table.end()});
    } else if (is_cuda(p_) && f_ == fp8::Format::e8m0) {  // __nv_cvt_e8m0_to_bf16raw
      const auto table = g_.array<std::uint16_t>("fp8/cuda_e8m0_to_bf16.u16");
      decode_check<bf16>("decode bf16 -> fp8/cuda_e8m0_to_bf16.u16", {table.begin(), table.end()});
    } else if (const std::string name = golden_decode_file(p_, f_); !name.empty()) {
      const auto table = g_.array<std::uint32_t>(name);
      decode_check<float>("decode f32 -> " + name, {table.begin(), table.end()});
    }
  }

  std::optional<StreamDigest> stream_digest() const { return fp8_f32_stream_digest(g_, p_, f_); }
  // The peer's digest of the stream whose run list is `runs_name` (fp8/f32_streams.sha256 names it .stream).
  std::optional<StreamDigest> stream_digest(const std::string& runs_name) const {
    const std::string stream = runs_name.substr(runs_name.find('/') + 1, runs_name.size() - runs_name.find('/') - 6) + ".stream";
    if (const auto sums = g_.sums("fp8/f32_streams.sha256"); sums.contains(stream))
      return StreamDigest{sums.at(stream), "fp8/f32_streams.sha256"};
    return std::nullopt;
  }

  // The peers' golden encodings, and a sample of the f32 run lists (rne).
  void golden_encode_checks() {
    for (const GoldenEncodings& set : golden_encodings(p_, f_)) {
      if (!in_scope(set.rounding)) continue;
      for (const auto& [src, name] : set.files) {
        if (src == "f16") encode_check("f16 all -> " + name, all16<f16>(), table16(name), set.rounding);
        else if (src == "bf16") encode_check("bf16 all -> " + name, all16<bf16>(), table16(name), set.rounding);
        else if (src == "f32") f32_sample_check(name, set.rounding);
        else {
          const auto [in, want] = f64_vectors(name);
          encode_check("f64 vectors -> " + name, in, want, set.rounding);
        }
      }
    }
    if (const std::string name = file("f32", "runs"); in_scope(Rounding::rne) && g_.has(name))
      f32_sample_check(name, Rounding::rne);
  }

  // A 16-bit table: 65536 bytes, or the same run-length coded.
  std::vector<std::uint8_t> table16(const std::string& name) const {
    if (!name.ends_with(".runs")) return g_.bytes(name);
    const std::vector<Run> runs = g_.runs(name);
    std::vector<std::uint8_t> t(65536);
    for (std::uint32_t i = 0; i < t.size(); ++i) t[i] = lookup(runs, i);
    return t;
  }

  // Random and boundary f32 inputs against a run list of all 2^32.
  void f32_sample_check(const std::string& name, Rounding r) {
    const std::vector<Run> runs = g_.runs(name);
    const std::vector<std::uint32_t> bits = f32_cases(o_.seed, o_.random_cases);
    std::vector<std::uint8_t> want(bits.size());
    for (std::size_t i = 0; i < bits.size(); ++i) want[i] = lookup(runs, bits[i]);
    encode_check(fmt::format("f32 sample -> {}", name), from_bits<float>(bits), want, r);
  }

  std::pair<std::vector<double>, std::vector<std::uint8_t>> f64_vectors(const std::string& name) const {
    std::pair<std::vector<double>, std::vector<std::uint8_t>> v;
    for (const F64Case& c : g_.vec(name)) {
      v.first.push_back(std::bit_cast<double>(c.bits));
      v.second.push_back(c.out);
    }
    return v;
  }

  // All 2^32 inputs in rounding `rounding`: against the golden run list `runs_name` where it is shipped,
  // and against the full-stream SHA-256 `want` where there is one.
  void f32_stream_check(const std::string& runs_name, Rounding rounding, const std::optional<StreamDigest>& want) {
    const std::vector<Run> runs = g_.has(runs_name) ? g_.runs(runs_name) : std::vector<Run>{};
    const std::string against = runs.empty() ? want->source : want ? runs_name + " + " + want->source : runs_name;
    check(fmt::format("f32 all 2^32 {}-> {}", rounding == Rounding::rne ? "" : fmt::format("{} ", name(rounding)), against),
          [&](Check& c) {
      Sha256 hash;
      std::size_t r = 0;
      const fp8::EncodeParams p = params(FloatType::f32, rounding);
      sweep_f32(fp8::encode_kernel<float>(impl_), p, 0, std::uint64_t{1} << 32, o_.threads,
                [&](std::uint64_t first, std::span<const std::uint8_t> out) {
                  hash.update(out);
                  c.cases += out.size();
                  if (runs.empty()) return;
                  // Walk the runs overlapping this chunk; each is one constant byte.
                  for (std::size_t i = 0; i < out.size();) {
                    while (r + 1 < runs.size() && runs[r + 1].start <= first + i) ++r;
                    const std::uint64_t run_end = r + 1 < runs.size() ? runs[r + 1].start : std::uint64_t{1} << 32;
                    const std::size_t stop = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), run_end - first));
                    for (; i < stop; ++i)
                      if (out[i] != runs[r].out)
                        c.mismatch(fmt::format("f32 0x{:08x} => got 0x{:02x} expected 0x{:02x}", first + i, out[i], runs[r].out), o_.max_errors);
                  }
                });
      if (const std::string got = hash.hex(); want && got != want->sha256)
        c.mismatch(fmt::format("stream sha256 {} expected {}", got, want->sha256), o_.max_errors);
    });
  }

  // All 2^32 inputs against the reference: the reference sweeps in parallel, the
  // implementation under test runs chunk by chunk in the sink.
  void f32_reference_sweep(Rounding r) {
    check(fmt::format("f32 all 2^32 {} -> reference", name(r)), [&](Check& c) {
      const fp8::EncodeParams p = params(FloatType::f32, r);
      std::vector<float> in;
      std::vector<std::uint8_t> got;
      sweep_f32(ref::fp8_encode_ref<float>, p, 0, std::uint64_t{1} << 32, o_.threads,
                [&](std::uint64_t first, std::span<const std::uint8_t> want) {
                  in.resize(want.size());
                  got.resize(want.size());
                  for (std::size_t i = 0; i < in.size(); ++i) in[i] = std::bit_cast<float>(static_cast<std::uint32_t>(first + i));
                  fp8::EncodeParams q = p;
                  q.index0 = first;
                  fp8::encode_kernel<float>(impl_)(in.size(), in.data(), got.data(), &q);
                  c.cases += want.size();
                  for (std::size_t i = 0; i < want.size(); ++i)
                    if (got[i] != want[i])
                      c.mismatch(fmt::format("{} => got 0x{:02x} expected 0x{:02x}", show(in[i]), got[i], want[i]), o_.max_errors);
                });
    });
  }

  void reference_checks() {
    const std::vector<float> f32 = from_bits<float>(f32_cases(o_.seed, o_.random_cases));
    const std::vector<double> f64 = from_bits<double>(f64_cases(o_.seed, o_.random_cases));
    for (Rounding r : kMinifloatRoundings) {
      if (!in_scope(r)) continue;
      const std::string suffix = fmt::format(" {} -> reference", name(r));
      encode_check("f16 all" + suffix, all16<f16>(), reference(all16<f16>(), r), r);
      encode_check("bf16 all" + suffix, all16<bf16>(), reference(all16<bf16>(), r), r);
      encode_check("f32 sample" + suffix, f32, reference(f32, r), r);
      encode_check("f64 sample" + suffix, f64, reference(f64, r), r);
    }
    decode_check<float>("decode f32 -> reference", reference_decode<float>());
    decode_check<f16>("decode f16 -> reference", reference_decode<f16>());
    decode_check<bf16>("decode bf16 -> reference", reference_decode<bf16>());
  }

  const fp8::Impl& impl_;
  const GoldenDir& g_;
  const Fp8SuiteOptions& o_;
  fp8::Format f_;
  const fp8::Profile& p_;
  std::vector<Check>& out_;
};

}  // namespace

std::string fp8_golden_encode_file(const fp8::Profile& p, fp8::Format f, std::string_view source,
                                   std::string_view ext) {
  return fmt::format("fp8/{}{}_to_{}.{}", golden_prefix(p), source, golden_format_name(p, f), ext);
}

std::optional<StreamDigest> fp8_f32_stream_digest(const GoldenDir& g, const fp8::Profile& p, fp8::Format f) {
  // Names relative to fp8/; CUDA's FP6/FP4 streams are named by their rounding mode (cudaRoundNearest).
  const std::string peer = is_cuda(p) && !is_ocp_fp8(f) ? fmt::format("cuda_rn_f32_to_{}.stream", traits(f).name)
                                                        : fp8_golden_encode_file(p, f, "f32", "stream").substr(4);
  if (const auto sums = g.sums("fp8/f32_streams.sha256"); sums.contains(peer))
    return StreamDigest{sums.at(peer), "fp8/f32_streams.sha256"};
  const std::string own = fmt::format("f32_to_{}.{}.stream", traits(f).name, p.name);
  if (const auto sums = g.sums("reference/f32_streams.sha256"); sums.contains(own))
    return StreamDigest{sums.at(own), "reference/f32_streams.sha256"};
  return std::nullopt;
}

std::vector<Check> run_fp8_suite(const fp8::Impl& impl, const GoldenDir& golden,
                                 const Fp8SuiteOptions& options) {
  std::vector<Check> out;
  for (fp8::Format f : options.formats)
    for (const fp8::Profile* p : options.profiles)
      if (fp8::applies(*p, f)) Runner(impl, golden, options, f, *p, out).run();
  return out;
}

}  // namespace lowbit::conformance
