// The golden data of p3109-cpp, the reference implementation of the P3109 draft (conformance/golden/
// p3109-spec/, README there): which file holds which saturation mode and rounding, for the reference's
// tests and the FP8 suite alike.
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "lowbit/formats/fp8.hpp"

namespace lowbit::conformance {

struct P3109SpecMode {
  std::string_view tag;      // the file's mode: F.from_<source>.<tag>.<runs|vec>
  std::string_view profile;  // lowbit's profile of the saturation mode
  Rounding rounding;
  bool extended_only;        // OvfInf and SatPropagate: the draft projects finite-domain formats with SatFinite only
  bool gfloat_too;           // also in gfloat's set (p3109/): the f64 vectors of signed formats are gfloat's alone
};

inline constexpr P3109SpecMode kP3109SpecModes[] = {
    {"rne", "p3109", Rounding::rne, true, true},
    {"rna", "p3109", Rounding::rna, true, true},
    {"rtz", "p3109", Rounding::rtz, true, true},
    {"rtp", "p3109", Rounding::rtp, true, false},
    {"rtn", "p3109", Rounding::rtn, true, false},
    {"rta", "p3109", Rounding::rta, true, false},
    {"rto", "p3109", Rounding::rto, true, false},
    {"satprop", "p3109-satpropagate", Rounding::rne, true, false},
    {"sat", "p3109-satfinite", Rounding::rne, false, true},
    {"sat_rna", "p3109-satfinite", Rounding::rna, false, false},
    {"sat_rtz", "p3109-satfinite", Rounding::rtz, false, false},
    {"sat_rtp", "p3109-satfinite", Rounding::rtp, false, false},
    {"sat_rtn", "p3109-satfinite", Rounding::rtn, false, false},
    {"sat_rta", "p3109-satfinite", Rounding::rta, false, false},
    {"sat_rto", "p3109-satfinite", Rounding::rto, false, false},
};

// Whether the folder has format f's files of `mode`: 16-bit tables always (where the draft defines the
// mode), f64 vectors except where gfloat's are (signed formats, gfloat's modes).
inline bool p3109_spec_has(fp8::Format f, const P3109SpecMode& mode, std::string_view source) {
  const fp8::Traits& t = traits(f);
  if (mode.extended_only && t.specials != fp8::Specials::extended) return false;
  return source != "f64" || !t.is_signed || !mode.gfloat_too;
}

inline std::string p3109_spec_file(fp8::Format f, const P3109SpecMode& mode, std::string_view source) {
  return "p3109-spec/" + std::string(traits(f).name) + ".from_" + std::string(source) + "." + std::string(mode.tag) +
         (source == "f64" ? ".vec" : ".runs");
}

}  // namespace lowbit::conformance
