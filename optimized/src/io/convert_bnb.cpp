// convert nf4|fp4: bitsandbytes' Linear4bit tensors, as transformers saves a pre-quantized model.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "convert_families.hpp"
#include "lowbit/io/bnb_checkpoint.hpp"

namespace lowbit::io::model {
namespace {

class BnbTarget final : public Target {
 public:
  BnbTarget(const nf4::Options& o, const std::optional<nf4::DoubleQuantOptions>& dq) : o_(o), dq_(dq) {
    (void)nf4::params(o_);  // validates the block size and profile now, not at the first weight
  }

  std::string format() const override { return std::string(nf4::name(o_.table)) + (dq_ ? "-dq" : ""); }

  std::vector<safetensors::Tensor> encode(const Source& w, const Parallel& par) const override {
    const std::size_t n = w.size(), block = static_cast<std::size_t>(o_.block);
    nf4::Encoded e{std::vector<std::uint8_t>(nf4::packed_bytes(n)), std::vector<float>(nf4::blocks(n, o_.block))};
    // Chunks of whole blocks, an even number of elements: each writes its own bytes and absmax.
    const std::size_t chunk = block * std::max<std::size_t>(1, (std::size_t{1} << 20) / block);
    par.for_each((n + chunk - 1) / chunk, [&](std::size_t c) {
      const std::size_t b = c * chunk, m = std::min(chunk, n - b);
      std::vector<float> x(m);
      w.read(b, x);
      nf4::encode(x, std::span(e.packed).subspan(b / 2, nf4::packed_bytes(m)), std::span(e.absmax).subspan(b / block, nf4::blocks(m, o_.block)), o_);
    });
    bnb::Bnb4bitState s = bnb::state(std::move(e), w.info().shape, o_, dq_);
    s.dtype = w.torch_dtype();
    return bnb::to_tensors(s, w.name());
  }

  std::string quantization_config(const std::string& compute_dtype) const override {
    return nlohmann::ordered_json{{"quant_method", "bitsandbytes"},
                                  {"load_in_4bit", true},
                                  {"load_in_8bit", false},
                                  {"bnb_4bit_quant_type", nf4::name(o_.table)},
                                  {"bnb_4bit_use_double_quant", dq_.has_value()},
                                  {"bnb_4bit_compute_dtype", compute_dtype},
                                  {"bnb_4bit_quant_storage", "uint8"}}
        .dump();
  }

  safetensors::Metadata options() const override {
    safetensors::Metadata m{{"blocksize", std::to_string(o_.block)}, {"profile", std::string(o_.profile.name)}};
    if (dq_) m["double_quant"] = "true";
    return m;
  }

 private:
  nf4::Options o_;
  std::optional<nf4::DoubleQuantOptions> dq_;
};

}  // namespace

std::unique_ptr<Target> bnb_target(const nf4::Options& o, const std::optional<nf4::DoubleQuantOptions>& dq) {
  return std::make_unique<BnbTarget>(o, dq);
}

Decoded detail::decode_bnb(std::span<const safetensors::Tensor> tensors, const Parallel&) {
  const std::string& name = tensors.front().name;
  const bnb::Bnb4bitState s = bnb::from_tensors(tensors, name);
  return {name, s.shape, bnb::decode(s), s.dtype};
}

}  // namespace lowbit::io::model
