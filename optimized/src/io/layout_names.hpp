// The tensor names of the bitsandbytes, QuantLinear and gpt-oss MXFP4 layouts, in one place for the code that writes
// them (bnb_checkpoint.cpp, weak_checkpoint.cpp), reads them back and recognises them in a model
// (model_layouts.cpp). Each is a field: bnb's follow "<weight>.", QuantLinear's "<layer>.".
#pragma once
#include <optional>
#include <string>

namespace lowbit::io::names {

namespace bnb {
inline constexpr const char* kAbsmax = "absmax";  // F32, or the U8 codes with double quantization
inline constexpr const char* kQuantMap = "quant_map";
inline constexpr const char* kNestedAbsmax = "nested_absmax";
inline constexpr const char* kNestedQuantMap = "nested_quant_map";
inline constexpr const char* kQuantTypes[] = {"nf4", "fp4"};
// "quant_state.bitsandbytes__nf4" or "__fp4": the JSON of the non-tensor fields.
inline std::string quant_state(const std::string& quant_type) { return "quant_state.bitsandbytes__" + quant_type; }
}  // namespace bnb

namespace weak {
inline constexpr const char* kQweight = "qweight";
inline constexpr const char* kScales = "scales";
inline constexpr const char* kScaledZeros = "scaled_zeros";  // QEFT
inline constexpr const char* kZeros = "zeros";               // OWQ
inline constexpr const char* kBias = "bias";                 // OWQ
inline constexpr const char* kOweight = "oweight";
inline constexpr const char* kOweightInterleaved = "oweight_interleaved";  // QEFT
inline constexpr const char* kOutlieridx = "outlieridx";
inline constexpr const char* kReorderIds = "reorder_ids";  // QEFT: the run-time input gather of a layer
}  // namespace weak

// gpt-oss's MXFP4 pairs: <w>.blocks / <w>.scales (openai/gpt-oss's own checkpoints) or <w>_blocks /
// <w>_scales (the Hugging Face checkpoints).
namespace gptoss {
struct Names {
  std::string weight, blocks, scales;
};
// The names, if `blocks` is a blocks name.
inline std::optional<Names> of_blocks(const std::string& blocks) {
  for (const char sep : {'.', '_'}) {
    const std::string suffix = std::string(1, sep) + "blocks";
    if (blocks.size() > suffix.size() && blocks.ends_with(suffix)) {
      std::string w = blocks.substr(0, blocks.size() - suffix.size());
      return Names{w, blocks, w + sep + "scales"};
    }
  }
  return std::nullopt;
}
// The names lowbit writes: openai's, <w>.blocks and <w>.scales.
inline Names of_weight(const std::string& w) { return {w, w + ".blocks", w + ".scales"}; }
}  // namespace gptoss

}  // namespace lowbit::io::names
