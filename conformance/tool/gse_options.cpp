#include "gse_options.hpp"

#include "registry.hpp"

namespace lowbit::cli {

void add_gse_options(CLI::App& c, GseFlags& g) {
  c.add_option("--bits", g.bits, "bits per element, sign included, 4..8 (default 8)");
  c.add_option("--group", g.group, "elements per shared exponent: 16, 32, 64, 128 or 256 (default 32)");
  c.add_option("--exp-bits", g.exp_bits, "shared exponent field, 5 or 8 bits (default 5)");
  c.add_option("--exp-bias", g.exp_bias, "exponent bias (default 15 for 5 bits, 127 for 8)");
  c.add_option("--exp-offset", g.exp_offset, "per-tensor power of two added to every exponent (default 0)");
  c.add_option("--mantissa-overflow", g.mantissa_overflow, "saturate (default) or bump")->check(CLI::IsMember({"saturate", "bump"}));
  c.add_option("--exponent-overflow", g.exponent_overflow, "saturate (default) or nan")->check(CLI::IsMember({"saturate", "nan"}));
}

gse::Format gse_format(const GseFlags& g) {
  gse::Format f;
  f.bits = g.bits;
  f.group = g.group;
  f.exp_bits = g.exp_bits;
  f.exp_bias = g.exp_bias ? *g.exp_bias : g.exp_bits == 8 ? 127 : 15;
  f.exp_offset = g.exp_offset;
  f.mantissa_overflow = g.mantissa_overflow == "bump" ? gse::MantissaOverflow::bump : gse::MantissaOverflow::saturate;
  f.exponent_overflow = g.exponent_overflow == "nan" ? gse::ExponentOverflow::nan : gse::ExponentOverflow::saturate;
  if (const auto error = validate(f)) throw UsageError(*error);
  return f;
}

}  // namespace lowbit::cli
