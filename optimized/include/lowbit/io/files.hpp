// Whole files as bytes, for the containers of lowbit::io (each parses and writes a byte buffer):
// io::safetensors::read(io::read_file("w.safetensors")). Errors are lowbit::Error with Errc::io
// naming the path.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lowbit::io {

std::vector<std::uint8_t> read_file(const std::string& path);
// Creates or truncates `path`.
void write_file(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace lowbit::io
