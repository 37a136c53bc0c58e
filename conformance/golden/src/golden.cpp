#include "lowbit/conformance/golden.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "lowbit/error.hpp"
#include "lowbit/io/files.hpp"

namespace lowbit::conformance {

GoldenDir::GoldenDir(std::filesystem::path root) : root_(std::move(root)) {}

GoldenDir GoldenDir::from_env() {
  const char* env = std::getenv("LOWBIT_GOLDEN");
  return GoldenDir(env && *env ? env : LOWBIT_GOLDEN_DIR);
}

bool GoldenDir::has(const std::string& rel) const { return std::filesystem::exists(root_ / rel); }

std::vector<std::uint8_t> GoldenDir::bytes(const std::string& rel) const {
  const std::filesystem::path p = root_ / rel;
  std::error_code ec;  // a folder or a FIFO is refused before it is opened (a FIFO would block)
  if (std::filesystem::exists(p, ec) && !std::filesystem::is_regular_file(p, ec))
    throw Error(p.string() + ": not a regular file", Errc::data);
  return io::read_file(p.string());  // Errc::io naming the file when it cannot be read
}

template <class T> std::vector<T> GoldenDir::array(const std::string& rel) const {
  const std::vector<std::uint8_t> b = bytes(rel);
  if (b.size() % sizeof(T)) throw std::runtime_error(fmt::format("{}: size {} is not a multiple of {}", rel, b.size(), sizeof(T)));
  std::vector<T> out(b.size() / sizeof(T));
  if (!b.empty()) std::memcpy(out.data(), b.data(), b.size());  // golden files are little-endian, as are our targets
  return out;
}
template std::vector<std::uint16_t> GoldenDir::array(const std::string&) const;
template std::vector<std::uint32_t> GoldenDir::array(const std::string&) const;
template std::vector<std::uint8_t> GoldenDir::array(const std::string&) const;
template std::vector<std::int16_t> GoldenDir::array(const std::string&) const;
template std::vector<std::int32_t> GoldenDir::array(const std::string&) const;
template std::vector<float> GoldenDir::array(const std::string&) const;

std::vector<std::vector<std::string>> GoldenDir::tsv(const std::string& rel) const {
  const std::vector<std::uint8_t> b = bytes(rel);
  std::istringstream in(std::string(b.begin(), b.end()));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string>& f = rows.emplace_back();
    std::istringstream cols(line);
    for (std::string c; std::getline(cols, c, '\t');) f.push_back(c);
  }
  return rows;
}

std::vector<Run> GoldenDir::runs(const std::string& rel) const {
  const std::vector<std::uint8_t> b = bytes(rel);
  if (b.size() % 5 || b.empty()) throw std::runtime_error(fmt::format("{}: not a .runs file", rel));
  std::vector<Run> out;
  for (std::size_t i = 0; i < b.size(); i += 5) {
    std::uint32_t start;
    std::memcpy(&start, &b[i], 4);
    if (out.empty() ? start != 0 : start <= out.back().start)
      throw std::runtime_error(fmt::format("{}: run starts are not increasing from 0", rel));
    out.push_back({start, b[i + 4]});
  }
  return out;
}

std::vector<F64Case> GoldenDir::vec(const std::string& rel) const {
  const std::vector<std::uint8_t> b = bytes(rel);
  if (b.size() % 9) throw std::runtime_error(fmt::format("{}: not a .vec file", rel));
  std::vector<F64Case> out(b.size() / 9);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::memcpy(&out[i].bits, &b[9 * i], 8);
    out[i].out = b[9 * i + 8];
  }
  return out;
}

std::map<std::string, std::string> GoldenDir::sums(const std::string& rel) const {
  const std::vector<std::uint8_t> b = bytes(rel);
  std::istringstream in(std::string(b.begin(), b.end()));
  std::map<std::string, std::string> out;
  std::string digest, name;
  while (in >> digest >> name) out[name] = digest;
  return out;
}

std::uint8_t lookup(const std::vector<Run>& runs, std::uint32_t bits) {
  auto it = std::upper_bound(runs.begin(), runs.end(), bits,
                             [](std::uint32_t b, const Run& r) { return b < r.start; });
  return std::prev(it)->out;
}

}  // namespace lowbit::conformance
