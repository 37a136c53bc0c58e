#include "nf4_commands.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <vector>

#include "lowbit/io/bnb_checkpoint.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/reference/nf4.hpp"
#include "stream.hpp"

namespace lowbit::cli {
int run_encode_nf4(const CodecArgs& a, const Nf4Args& n) {
  if (a.type != "f32") throw UsageError("nf4/fp4 encode f32 input only (--from f32)");
  nf4::Options o;
  o.table = *nf4::parse_table(a.format);
  o.profile = nf4::profile(a.profile);
  o.block = n.block;
  const nf4::Params p = nf4::params(o);
  if (!n.double_quant && (n.dq_offset || !n.dq_map.empty()))
    throw UsageError("--dq-offset and --dq-map need --double-quant");
  const std::vector<float> x = read_words<float>(a.input, a.input.empty() ? "standard input" : "'" + a.input + "'");
  io::bnb::Bnb4bitState s;
  s.quant_type = a.format;
  s.blocksize = static_cast<std::uint64_t>(n.block);
  s.shape = {x.size()};
  s.packed.resize(nf4::packed_bytes(x.size()));
  std::vector<float> absmax(nf4::blocks(x.size(), n.block));
  nf4::encode(x, s.packed, absmax, o);
  for (unsigned c = 0; c < 16; ++c) s.quant_map.push_back(table_value(o.table, c));
  if (!n.double_quant) {
    s.absmax = std::move(absmax);
  } else {
    nf4::DynamicMap map = ref::bnb_dynamic_map();
    if (!n.dq_map.empty()) {
      const std::vector<float> given = read_words<float>(n.dq_map, "--dq-map");
      if (given.size() != 256) throw UsageError(fmt::format("--dq-map holds {} floats, expected 256", given.size()));
      std::copy(given.begin(), given.end(), map.begin());
      if (!ref::valid_dynamic_map(map)) throw UsageError("--dq-map is not a non-decreasing map within [-1, 1]");
    }
    const nf4::DoubleQuantized dq = ref::nf4_double_quantize(absmax, p.profile.nested, map, n.dq_offset);
    s.nested = io::bnb::Bnb4bitNested{dq.codes, dq.nested_absmax, {map.begin(), map.end()},
                                               static_cast<std::uint64_t>(nf4::kNestedBlock), "float32", dq.offset};
  }
  OutputStream out(a.output);
  const std::vector<std::uint8_t> file = io::safetensors::write(io::bnb::to_tensors(s));
  out.write(file);
  out.commit();
  return 0;
}

int run_decode_nf4(const CodecArgs& a) {
  if (a.type != "f32") throw UsageError("nf4/fp4 decode to f32 only (--to f32)");
  const std::vector<std::uint8_t> bytes = read_all(a.input);
  io::bnb::Bnb4bitState s;
  try {
    const io::safetensors::File f = io::safetensors::read(bytes);
    s = io::bnb::from_tensors(f.tensors);
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
  if (s.quant_type != a.format)
    throw UsageError(fmt::format("the file holds {} weights, not {}", s.quant_type, a.format));
  nf4::Options o;
  o.table = *nf4::parse_table(s.quant_type);
  o.block = static_cast<int>(s.blocksize);
  for (unsigned c = 0; c < 16; ++c)
    if (std::bit_cast<std::uint32_t>(s.quant_map[c]) != std::bit_cast<std::uint32_t>(table_value(o.table, c)))
      throw UsageError(fmt::format("quant_map entry {} is not bitsandbytes' {} table: unsupported", c, s.quant_type));
  std::vector<float> absmax = s.absmax;
  if (s.nested) {
    if (s.nested->nested_blocksize != static_cast<std::uint64_t>(nf4::kNestedBlock))
      throw UsageError(fmt::format("nested blocksize {} is not supported (bitsandbytes uses 256)", s.nested->nested_blocksize));
    nf4::DynamicMap map;
    std::copy(s.nested->nested_map.begin(), s.nested->nested_map.end(), map.begin());  // the stored map
    absmax.resize(s.nested->codes.size());
    ref::nf4_double_dequantize(s.nested->codes, s.nested->nested_absmax, s.nested->offset, map, absmax);
  }
  std::vector<float> y(s.elements());
  nf4::decode(s.packed, absmax, y, o);
  OutputStream out(a.output, "<f4");
  out.write({reinterpret_cast<const std::uint8_t*>(y.data()), y.size() * sizeof(float)});
  out.commit();
  return 0;
}

}  // namespace lowbit::cli
