// docs/examples/io.cpp: a QLoRA weight as bitsandbytes' Linear4bit tensors and a QEFT layer as its
// QuantLinear buffers, each through a .safetensors file; a .npy array; a malformed file.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "lowbit/io.hpp"
#include "lowbit/qeft.hpp"

int main() {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  std::vector<float> w(64 * 128);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.03f * std::sin(0.11f * static_cast<float>(i));

  // NF4 with double quantization, as bitsandbytes stores a [64, 128] Linear4bit weight.
  lowbit::nf4::Options o;
  o.profile = lowbit::nf4::profile("bnb-cpu");
  const lowbit::io::bnb::Bnb4bitState s = lowbit::io::bnb::encode(w, {64, 128}, o, lowbit::nf4::DoubleQuantOptions{});
  const std::string nf4_path = (dir / "lowbit_example_nf4.safetensors").string();
  lowbit::io::write_file(nf4_path, lowbit::io::safetensors::write(lowbit::io::bnb::to_tensors(s, "up_proj.weight")));
  const lowbit::io::safetensors::File f = lowbit::io::safetensors::read(lowbit::io::read_file(nf4_path));
  const std::vector<float> y = lowbit::io::bnb::decode(lowbit::io::bnb::from_tensors(f.tensors, "up_proj.weight"));

  // A QEFT layer: qweight, scales, scaled_zeros, oweight, ... and lowbit's metadata.
  const lowbit::qeft::Packed p = lowbit::qeft::encode(64, 128, w, std::vector<std::int32_t>{3, 77});
  const lowbit::io::safetensors::File q = lowbit::io::to_file(p, "q_proj");
  const std::string qeft_path = (dir / "lowbit_example_qeft.safetensors").string();
  lowbit::io::write_file(qeft_path, lowbit::io::safetensors::write(q.tensors, q.metadata));
  const lowbit::qeft::Packed back = lowbit::io::qeft_from_file(lowbit::io::safetensors::read(lowbit::io::read_file(qeft_path)), "q_proj");

  // A .npy array of the decoded weight, with its shape.
  const std::string npy_path = (dir / "lowbit_example.npy").string();
  lowbit::io::npy::write(npy_path, lowbit::io::npy::make_array("<f4", y, {64, 128}));
  const lowbit::io::npy::Array a = lowbit::io::npy::read(npy_path);

  try {  // not a .safetensors file: Errc::data
    lowbit::io::safetensors::read(std::vector<std::uint8_t>{1, 2, 3});
    return 1;
  } catch (const lowbit::Error& e) {
    std::printf("%s\n", e.what());
    if (e.code() != lowbit::Errc::data) return 1;
  }
  return back == p && a.values<float>() == y && a.shape[0] == 64 ? 0 : 1;
}
