// The GSE GEMM family: `lowbit gemm gse` (C = A B^T, both operands quantized to GSE along k), gen and
// verify of gse-gemm sets (with the fp32 tolerance mode), and the gse-gemm suite (profiles exact, fp32).
#include <fmt/format.h>

#include <memory>

#include "gse_options.hpp"
#include "lowbit/formats/sizes.hpp"
#include "lowbit/gse.hpp"
#include "options.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

const std::vector<std::string> kAccumulations{"exact", "fp32"};

gse::Accumulate accumulate(const std::string& s) { return s == "fp32" ? gse::Accumulate::fp32 : gse::Accumulate::exact; }

Command gemm_command() {
  struct Flags {
    GseFlags format;
    std::size_t m = 0, n = 0, k = 0;
    std::string a, b, output, accumulate, rounding;
    bool bits_as_float = false;
  };
  return command<Flags>(
      "gemm", "gse", {}, "C = A B^T with A and B encoded to the same GSE format along k",
      [](CLI::App& c, Flags& f) {
        c.add_option("--m", f.m, "rows of A and C")->required();
        c.add_option("--n", f.n, "rows of B (a linear layer's out_features), columns of C")->required();
        c.add_option("--k", f.k, "the reduction dimension")->required();
        c.add_option("-a", f.a, "A: m x k row-major f32, raw or .npy")->required();
        c.add_option("-b", f.b, "B: n x k row-major f32, raw or .npy")->required();
        c.add_option("-o,--output", f.output, "C: m x n row-major f32, written only on success (default: standard output)");
        add_choice(c, "--accumulate", f.accumulate, kAccumulations,
                   "exact: every product summed exactly, rounded once; fp32: group by group in f32");
        add_gse_options(c, f.format);
        add_choice(c, "--rounding", f.rounding, {"rne", "rna", "rtz"}, "rounding of the operands' encoding");
        add_bits_as_float(c, f.bits_as_float);
      },
      [](const Flags& f) {
        const gse::Format format = gse_format(f.format);
        if (!checked_mul(f.m, f.k) || !checked_mul(f.n, f.k) || !checked_mul(f.m, f.n))
          throw UsageError(fmt::format("--m {} --n {} --k {}: the matrices' element counts overflow", f.m, f.n, f.k));
        const std::vector<float> A = read_values<float>(f.a, kF32, f.bits_as_float).values;
        const std::vector<float> B = read_values<float>(f.b, kF32, f.bits_as_float).values;
        if (A.size() != f.m * f.k)
          throw UsageError(fmt::format("-a has {} floats, but --m {} --k {} needs {}", A.size(), f.m, f.k, f.m * f.k));
        if (B.size() != f.n * f.k)
          throw UsageError(fmt::format("-b has {} floats, but --n {} --k {} needs {}", B.size(), f.n, f.k, f.n * f.k));
        gse::Options o;
        o.format = format;
        o.rounding = rounding(f.rounding);
        const gse::Encoded ea = gse::encode_rows(f.m, f.k, A, o), eb = gse::encode_rows(f.n, f.k, B, o);
        OutputStream out(f.output, &kF32);
        const std::vector<float> C = gse::gemm(f.m, f.n, f.k, {ea.codes, ea.exps, format}, {eb.codes, eb.exps, format},
                                               {.accumulate = accumulate(f.accumulate)});
        out.write_values<float>(C);
        out.commit({f.m, f.n});
        return kSuccess;
      });
}

Command gen_command() {
  struct Gen {
    GenFlags common;
    GseFlags format;
    std::size_t m = 5, n = 17, k = 0;
    std::string accumulate;
  };
  return command<Gen>(
      "gen", "gse-gemm", {}, "golden GSE GEMM problems: every k tail, extreme fields, cancellation, zero and NaN groups",
      [](CLI::App& c, Gen& f) {
        add_gse_options(c, f.format);
        c.add_option("--m", f.m, "rows of A and C (default 5)");
        c.add_option("--n", f.n, "rows of B, columns of C (default 17)");
        c.add_option("--k", f.k, "the reduction length of the main problems (default 4 x group + 3)");
        add_choice(c, "--accumulate", f.accumulate, kAccumulations, "the expected outputs' accumulation");
        add_gen_options(c, f.common);
      },
      [](const Gen& f) {
        if (f.m == 0 || f.n == 0) throw UsageError("--m and --n must be at least 1");
        conformance::GseGemmGenOptions o;
        static_cast<conformance::GenCommon&>(o) = gen_common(f.common);
        o.format = gse_format(f.format);
        o.accumulate = accumulate(f.accumulate);
        o.m = f.m;
        o.n = f.n;
        o.k = f.k;
        return gen_done(conformance::gen_gse_gemm(o, f.common.out), "gse-gemm outputs", f.common.out);
      });
}

void define(Registry& reg) {
  reg.add(gemm_command());
  reg.add(gen_command());
  reg.add(verify_command("gse-gemm", {}, "gse-gemm", {}, /*tolerance=*/true));
  reg.add(Suite{
      {"gse-gemm"}, {}, kAccumulations, {"gse-gemm"},
      [](const SuiteRun& run) {
        return each_implementation<gse::GemmImpl>(
            run, [&](const gse::GemmImpl& impl) { return conformance::run_gse_gemm_suite(impl, run.block()); });
      },
      [](const conformance::Plugin& p) { return p.descriptor().gse_gemm_f32 != nullptr; },
      [](const conformance::Plugin& plugin, const SuiteRun& run) {
        return plugin_group(plugin, run, "gse-gemm",
                            [&] { return conformance::run_gse_gemm_suite(conformance::plugin_gse_gemm(plugin), run.block()); });
      }});
}

const Registration registration("gse-gemm", define);

}  // namespace
}  // namespace lowbit::cli
