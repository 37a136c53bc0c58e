// Replays a corpus through a fuzz target without libFuzzer (any compiler): every file named on the
// command line, and every regular file of every directory named (not recursive, in name order), is
// passed once to LLVMFuzzerTestOneInput. A finding aborts, so the exit status tells the test.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "fuzz.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path arg(argv[i]);
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> dir;
      for (const fs::directory_entry& e : fs::directory_iterator(arg))
        if (e.is_regular_file()) dir.push_back(e.path());
      std::sort(dir.begin(), dir.end());
      inputs.insert(inputs.end(), dir.begin(), dir.end());
    } else if (fs::is_regular_file(arg, ec)) {
      inputs.push_back(arg);
    } else {
      std::fprintf(stderr, "%s: no such file or directory: %s\n", argv[0], argv[i]);
      return 2;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR|FILE...  (runs each input once through the fuzz target)\n", argv[0]);
    return 2;
  }
  for (const fs::path& p : inputs) {
    std::ifstream f(p, std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "%s: cannot read %s\n", argv[0], p.c_str());
      return 2;
    }
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    // A copy in a buffer of its exact size, as libFuzzer passes it: a read past the end is caught by ASan.
    const std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), exact.get());
    if (lowbit::fuzz::verbose()) std::fprintf(stderr, "%s\n", p.c_str());
    LLVMFuzzerTestOneInput(exact.get(), bytes.size());
  }
  std::printf("%s: %zu inputs replayed, no finding\n", argv[0], inputs.size());
  return 0;
}
