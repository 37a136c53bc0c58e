// SHA-256 (OpenSSL) for golden-file checks and full-stream digests.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace lowbit::conformance {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::uint8_t> bytes);
  std::string hex();  // finishes the hash

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::span<const std::uint8_t> bytes);

}  // namespace lowbit::conformance
