// The lowbit tool's stream layer (conformance/tool/stream.*): an input file read as values (raw or
// .npy, in chunks or whole), as a container or as any input, then every output kind written back
// through OutputStream (a raw file, a .npy array, a container) and read again. Input: [pick][chunk]
// then the file's bytes; pick: bits 0-2 the element (f32, f64, f16, bf16, u8, i32), bit 3
// --bits-as-float, bit 4 the input named *.npy, bits 5-6 the reader (0 InputStream in chunks of
// 1 + chunk % 64 elements, 1 read_values, 2 read_container of a .gse stream, 3 read_input).
// Malformed input ends in UsageError or lowbit::Error; what is accepted must come back unchanged.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz.hpp"
#include "lowbit/io/npy.hpp"
#include "stream.hpp"

namespace fs = std::filesystem;
namespace cli = lowbit::cli;

namespace {

const cli::Element* const kElements[] = {&cli::kF32, &cli::kF64, &cli::kF16, &cli::kBf16, &cli::kU8, &cli::kI32};

// The files of one run: a folder of this process, removed at exit.
const fs::path& folder() {
  static const struct Folder {
    fs::path p = fs::temp_directory_path() / ("lowbit_fuzz_stream." + std::to_string(::getpid()));
    Folder() { fs::create_directories(p); }
    ~Folder() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } d;
  return d.p;
}

std::vector<std::uint8_t> slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void put(const fs::path& p, std::span<const std::uint8_t> b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Runs f(); true when it returns, false when it rejects the input as the tool does.
template <class F> bool accepted(F&& f) {
  try {
    return lowbit::fuzz::accepted(f);
  } catch (const cli::UsageError& e) {
    if (lowbit::fuzz::verbose()) std::fprintf(stderr, "  rejected: %s\n", e.what());
  }
  return false;
}

// The values written as a raw stream and as a .npy array of `shape` come back unchanged.
void write_back(const cli::Element& e, const std::vector<std::uint8_t>& bytes, std::vector<std::uint64_t> shape) {
  const std::string raw = (folder() / "out.raw").string(), npy = (folder() / "out.npy").string();
  for (const std::string& path : {raw, npy}) {
    cli::OutputStream out(path, &e);
    out.write(bytes);
    out.commit(shape);
  }
  LOWBIT_FUZZ_CHECK(slurp(raw) == bytes);
  const lowbit::io::npy::Array a = lowbit::io::npy::read(npy);
  LOWBIT_FUZZ_CHECK(a.descr == e.descr && a.bytes == bytes);
  LOWBIT_FUZZ_CHECK(a.shape == (shape.empty() ? std::vector<std::uint64_t>{bytes.size() / e.size} : shape));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lowbit::fuzz::Bytes in(data, size);
  const std::uint8_t pick = in.u8(), chunk = in.u8();
  const std::span<const std::uint8_t> file = in.rest();
  const cli::Element& e = *kElements[(pick & 7) % 6];
  const bool bits_as_float = pick & 8;
  const fs::path path = folder() / (pick & 16 ? "in.npy" : "in");
  put(path, file);
  switch (pick >> 5 & 3) {
    case 0: {
      std::vector<std::uint8_t> all, buf;
      std::vector<std::uint64_t> shape;
      if (!accepted([&] {
            cli::InputStream s(path.string(), e, bits_as_float);
            while (s.read(buf, 1 + chunk % 64)) all.insert(all.end(), buf.begin(), buf.end());
            shape = s.shape();
          }))
        return 0;
      const cli::Values<std::uint8_t> whole = cli::read_values<std::uint8_t>(path.string(), e, bits_as_float);
      LOWBIT_FUZZ_CHECK(whole.values == all && whole.shape == shape);  // chunks or whole: the same values
      LOWBIT_FUZZ_CHECK(all.size() % e.size == 0);
      if (shape.empty()) LOWBIT_FUZZ_CHECK(std::equal(all.begin(), all.end(), file.begin(), file.end()));
      write_back(e, all, shape);
      break;
    }
    case 1: {
      cli::Values<std::uint8_t> v;
      if (accepted([&] { v = cli::read_values<std::uint8_t>(path.string(), e, bits_as_float); })) write_back(e, v.values, v.shape);
      break;
    }
    case 2: {
      std::vector<std::uint8_t> c;
      if (!accepted([&] { c = cli::read_container(path.string(), cli::FileKind::gse, "a .gse stream"); })) return 0;
      LOWBIT_FUZZ_CHECK(std::equal(c.begin(), c.end(), file.begin(), file.end()));
      const std::string out = (folder() / "out.gse").string();
      cli::write_file(out, c);
      LOWBIT_FUZZ_CHECK(slurp(out) == c);
      break;
    }
    default: {
      const cli::Input i = cli::read_input(path.string());  // any bytes are some input
      LOWBIT_FUZZ_CHECK(std::equal(i.bytes.begin(), i.bytes.end(), file.begin(), file.end()));
      LOWBIT_FUZZ_CHECK(i.kind == cli::sniff(file.first(std::min<std::size_t>(16, file.size()))));
    }
  }
  return 0;
}
