#include "registry.hpp"

#include <algorithm>
#include <map>

namespace lowbit::cli {
namespace {

// Registrations made by static objects: a function-local map, so that the order in which the
// objects are initialised does not matter; sorted by name.
std::map<std::string, void (*)(Registry&), std::less<>>& pending() {
  static std::map<std::string, void (*)(Registry&), std::less<>> m;
  return m;
}

constexpr Verb kVerbs[] = {
    {"encode", "values -> the format's storage (codes, scales, a .gse stream, a .safetensors checkpoint)"},
    {"decode", "the format's storage -> values"},
    {"quantize", "encode then decode: values -> values on the format's grid (fake quantization)"},
    {"sweep", "the encoding of every input bit pattern, in order"},
    {"gemm", "C = A B^T with both operands encoded"},
    {"gen", "golden test vectors: .npy arrays + manifest.json (TestFloat's testfloat_gen)"},
    {"verify", "compare an implementation's outputs with a golden set (TestFloat's testfloat_ver)"},
    {"conform", "the conformance suites over lowbit's implementations, or a vendor plugin's"},
    {"list", "formats, options, profiles, roundings and implementations"},
    {"convert", "a whole checkpoint (a .safetensors file or a Hugging Face folder) -> the format's checkpoint layout"},
    {"dequantize", "a quantized checkpoint -> plain BF16, F16 or F32 tensors"},
    {"inspect", "a checkpoint's tensors (a .safetensors file or a Hugging Face folder) and the format of each weight"},
    {"weak-columns", "calibration activations -> each layer's weak columns and QEFT's global index"},
    {"train-check", "the gradient validations of the training layers"},
    {"finetune", "the end-to-end fine-tuning table and the bits x rank sweep (docs/training.md)"},
};

}  // namespace

Registration::Registration(std::string_view name, void (*define)(Registry&)) { pending().emplace(name, define); }

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    for (const auto& [name, define] : pending()) define(reg);
    return reg;
  }();
  return r;
}

std::span<const Verb> verbs() { return kVerbs; }

conformance::BlockSuiteOptions SuiteRun::block() const {
  conformance::BlockSuiteOptions o;
  o.max_errors = max_errors;
  o.seed = seed;
  o.groups = groups;
  for (Rounding r : roundings)  // the block formats have the four of kRoundings
    if (std::find(kRoundings.begin(), kRoundings.end(), r) != kRoundings.end()) o.roundings.push_back(r);
  o.profiles = profiles;
  return o;
}

bool SuiteRun::has_format(std::string_view f) const {
  return formats.empty() || std::find(formats.begin(), formats.end(), f) != formats.end();
}

bool SuiteRun::has_profile(std::string_view p) const {
  return profiles.empty() || std::find(profiles.begin(), profiles.end(), p) != profiles.end();
}

}  // namespace lowbit::cli
