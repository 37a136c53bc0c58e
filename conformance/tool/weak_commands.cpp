#include "weak_commands.hpp"

#include <fmt/format.h>

#include <cmath>

#include "lowbit/io/weak_checkpoint.hpp"
#include "lowbit/reference/weak.hpp"
#include "stream.hpp"

namespace lowbit::cli {
namespace {

namespace st = io::safetensors;

weak::Layout layout_of(const std::string& s) {
  const auto l = weak::parse_layout(s);
  if (!l) throw UsageError(fmt::format("unknown layout '{}' (valid: qeft, owq)", s));
  return *l;
}

st::File read_file(const std::string& path) {
  try {
    return st::read(read_all(path));
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
}

void write_file(const std::string& path, const st::File& f) {
  OutputStream out(path);
  out.write(st::write(f.tensors, f.metadata));
  out.commit();
}

}  // namespace

int run_pack(const PackArgs& a) {
  const weak::Layout layout = layout_of(a.layout);
  weak::QuantOptions o;
  o.bits = a.bits;
  o.group = a.group.value_or(layout == weak::Layout::qeft ? 128 : 0);
  o.sym = a.sym;
  const auto tuning = weak::parse_tuning(a.tuning);
  if (!tuning) throw UsageError(fmt::format("unknown tuning '{}' (valid: minmax, mse)", a.tuning));
  o.tuning = *tuning;
  o.grid = a.grid.value_or(weak::default_grid(layout, o.group));
  if (a.grid && o.tuning != weak::Tuning::mse) throw UsageError("--grid applies to --tuning mse only");

  const st::File in = read_file(a.input);
  const st::Tensor* t = in.find("weight");
  if (!t) throw UsageError("the input has no tensor named 'weight' (an F32 [OC, IC] weight is expected)");
  if (t->dtype != "F32" || t->shape.size() != 2)
    throw UsageError(fmt::format("tensor 'weight' must be F32 with 2 dimensions [OC, IC], got {} with {}", t->dtype, t->shape.size()));
  const std::size_t oc = t->shape[0], ic = t->shape[1];
  const std::vector<float> w = st::values<float>(*t, "F32");
  const std::vector<std::int32_t> weak = a.weak_idx.empty() ? std::vector<std::int32_t>{} : read_words<std::int32_t>(a.weak_idx, "--weak-idx");

  ref::WeakQuantized q;
  std::vector<weak::Clamp> clamped;
  st::File out;
  try {
    q = ref::weak_quantize(layout, w, oc, ic, weak, o);
    out = layout == weak::Layout::qeft ? io::to_file(ref::qeft_pack(q, &clamped), a.prefix)
                                     : io::to_file(ref::owq_pack(q, &clamped), a.prefix);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  out.metadata["lowbit.tuning"] = a.tuning;
  out.metadata["lowbit.sym"] = o.sym ? "true" : "false";
  if (o.tuning == weak::Tuning::mse) out.metadata["lowbit.grid"] = std::to_string(o.grid);
  if (!clamped.empty()) {
    fmt::print(stderr, "lowbit: note: {} codes out of range were clamped; the reference packer would write them unclamped "
                       "and corrupt neighbouring codes{}\n", clamped.size(), a.report_clamped ? ":" : " (--report-clamped lists them)");
    if (a.report_clamped)
      for (const weak::Clamp& c : clamped)
        fmt::print(stderr, "  row {} column {} (original column {}): code {} stored as {}\n", c.row, c.col, q.perm[c.col], c.code,
                   c.code < 0 || std::isnan(c.code) ? 0 : (1 << o.bits) - 1);
  }
  write_file(a.output, out);
  return 0;
}

int run_unpack(const UnpackArgs& a) {
  const weak::Layout layout = layout_of(a.layout);
  if (a.order != "stored" && a.order != "original") throw UsageError(fmt::format("unknown --order '{}' (valid: stored, original)", a.order));
  const st::File in = read_file(a.input);
  std::vector<float> w;
  std::size_t oc = 0, ic = 0;
  try {
    if (layout == weak::Layout::qeft) {
      if (a.bits && *a.bits != 4) throw UsageError("QEFT is 4-bit only");
      const std::string path = a.path.empty() ? "gemv" : a.path;
      if (path != "gemv" && path != "nowc") throw UsageError(fmt::format("unknown QEFT --path '{}' (valid: gemv, nowc)", path));
      const qeft::Packed p = io::qeft_from_file(in, a.prefix);
      oc = p.oc;
      ic = p.ic;
      const std::vector<float> stored = ref::qeft_dequantize(p, path == "gemv" ? qeft::Path::gemv : qeft::Path::nowc);
      w = stored;
      if (a.order == "original") {  // stored column j is original column perm[j]
        const std::vector<std::int32_t> perm = ref::weak_permutation(p.outlieridx, ic);
        for (std::size_t o = 0; o < oc; ++o)
          for (std::size_t j = 0; j < ic; ++j) w[o * ic + static_cast<std::size_t>(perm[j])] = stored[o * ic + j];
      }
    } else {
      const std::string path = a.path.empty() ? "fp16" : a.path;
      if (path != "fp16" && path != "fp32" && path != "nowc")
        throw UsageError(fmt::format("unknown OWQ --path '{}' (valid: fp16, fp32, nowc)", path));
      const owq::Packed p = io::owq_from_file(in, a.prefix, a.bits);
      oc = p.oc;
      ic = p.ic;
      w = ref::owq_dequantize(p, path == "fp16" ? owq::Path::fp16 : path == "fp32" ? owq::Path::fp32 : owq::Path::nowc);
    }
  } catch (const std::runtime_error& e) {  // lowbit::Error is one
    throw UsageError(e.what());
  }
  st::File out;
  out.tensors.push_back(st::make_tensor("weight", "F32", {oc, ic}, w));
  write_file(a.output, out);
  return 0;
}

}  // namespace lowbit::cli
