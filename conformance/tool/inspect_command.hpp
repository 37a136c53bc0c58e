// lowbit inspect MODEL [--json]: every tensor of a checkpoint (lowbit/io/model.hpp) with its dtype,
// shape, bytes and the lowbit format it is stored in (lowbit/io/model_layouts.hpp), the companions
// of a recognised weight indented under it; then "N tensors, B bytes; <format> <count>, ..." (the
// counts are of weights, companions not counted), and the quantization_config of a folder's
// config.json when it has one. --json: one object {"model", "shards", "tensors": [{name, dtype,
// shape, bytes, shard, offset, format, layout, companions: [...]}], "summary": {tensors, bytes,
// formats: {format: count}}, "quantization_config"}. Malformed input: exit 2, one line.
#pragma once
#include <string>

namespace lowbit::cli {

// What `lowbit inspect` prints.
std::string inspect(const std::string& model, bool json);

}  // namespace lowbit::cli
