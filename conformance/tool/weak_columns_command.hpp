// lowbit weak-columns: the OWQ/QEFT weak columns of each layer and QEFT's global index (OGR) from
// calibration activations, as xvyaward/qeft's extract_outidx.py chooses them
// (reference/weak_select.hpp).
//
// Input (-i): a .safetensors with one F32 tensor [tokens, IC] per layer, named by the layer.
// Output (-o): a .safetensors with one I32 tensor [k] per layer, its weak columns ascending, and
// `global` [k], the OGR index over the layers that read the residual stream: --layers, or by
// default every layer whose name ends in q_proj, k_proj, v_proj, up_proj or gate_proj. Those
// are visited as the peer does, by block (the first decimal number in the name), then q, k, v,
// up, gate; --layers in the order given. They must share IC. --weights (F32 [OC, IC] under the
// same names) multiplies each sensitivity by the frob-norm factor (the peer's default). The
// metadata records k, the global variant and the frob-norm quantizer.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace lowbit::cli {

struct WeakColumnsArgs {
  std::size_t k = 0;                  // weak columns per layer and in the global index; 0 < k < IC
  std::string global = "qeft";        // qeft | per-layer-topk
  bool no_global = false;             // write the per-layer indices only
  std::vector<std::string> layers;    // the layers of the global index (default: by name)
  std::string weights;                // "" = no frob-norm factor
  std::optional<int> bits;            // with --weights: 2, 3 or 4 (default 4)
  std::optional<std::string> tuning;  // with --weights: mse (default) | minmax
  std::string input, output;
};

int run_weak_columns(const WeakColumnsArgs& a);

}  // namespace lowbit::cli
