// Which lowbit format each weight of a checkpoint (io/model.hpp) is stored in, from the tensors'
// names and dtypes (docs/checkpoints.md has the rules with worked examples):
//   nf4 / fp4 (-dq)  <w> U8 with <w>.quant_state.bitsandbytes__nf4|fp4 (io/bnb_checkpoint.hpp); the
//                    companions <w>.absmax, <w>.quant_map and, with double quantization ("-dq",
//                    as the quant_state JSON says), <w>.nested_absmax, <w>.nested_quant_map
//   fp8-e4m3/e5m2    <w> F8_E4M3/F8_E5M2 with <w>_scale (compressed-tensors) or <w>_scale_inv
//                    (DeepSeek-V3's blocks); the layout follows from the scale's shape
//   gse, mx<...>     <w> (I8 or U8 codes) with <w>.gse_exponents and <w>.gse_format, or <w>.mx_scales
//                    and <w>.mx_format (lowbit's own layout, io/convert.hpp gse_target / mx_target); the
//                    format JSON names the MX format (mxint8, mxfp8-e4m3, ..., mxfp4-e2m1)
//   mxfp4-gptoss     <w>.blocks U8 [..., G, 16] with <w>.scales U8 [..., G] (or <w>_blocks, <w>_scales):
//                    gpt-oss's MXFP4, two E2M1 codes a byte (low nibble first), E8M0 scales; weight [..., G * 32]
//   qeft / owq-3/4   <P>.qweight I16 with <P>.scaled_zeros / I32 with <P>.zeros, and the other
//                    QuantLinear buffers of io/weak_checkpoint.hpp (QEFT's optional <P>.reorder_ids
//                    too); OWQ is owq-3 / owq-4 when the shard's metadata has lowbit.bits, else owq
//   plain            every other tensor
// Only the small quant_state and format JSON are read; a recognised weight missing a companion its layout
// needs is lowbit::Error (Errc::data) naming the tensor.
#pragma once
#include <string>
#include <vector>

#include "lowbit/io/model.hpp"

namespace lowbit::io::model {

struct Weight {
  const TensorInfo* tensor;  // the weight's own tensor (the packed codes, the fp8 values, qweight)
  std::string format;        // plain, nf4, nf4-dq, fp4, fp4-dq, fp8-e4m3, fp8-e5m2, gse, mxint8, mxfp8-e4m3,
                             // mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4-e2m1, mxfp4-gptoss, qeft, owq(-3|-4)
  std::string layout;        // details: the bnb blocksize and original shape, the fp8 scale's kind; may be empty
  std::vector<const TensorInfo*> companions;  // the tensors grouped under it, by name
};

// Every tensor of `m` in exactly one Weight (as itself or as a companion), in name order.
std::vector<Weight> recognise(const Model& m);

}  // namespace lowbit::io::model
