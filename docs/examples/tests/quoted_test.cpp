// The docs cannot drift from the examples: every ```cpp and ```c block of docs/api.md and README.md
// starts with a comment naming its example file ("// docs/examples/NAME.cpp...", "/* docs/examples/
// c_NAME.c ...") and is that file byte for byte, and every example file is quoted somewhere.
// Usage: quoted_test SOURCE_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

int failures = 0;

void fail(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  ++failures;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A language's code blocks: the fence, the comment that opens the first line, the file extension.
struct Language {
  std::string fence, comment, extension;
};
const Language kLanguages[] = {{"```cpp", "// ", ".cpp"}, {"```c", "/* ", ".c"}};

// Checks the code blocks of `page`; adds the example files they quote to `quoted`.
void check_page(const fs::path& root, const std::string& page, std::set<std::string>& quoted) {
  std::istringstream in(read(root / page));
  if (!in.str().size()) return fail(page + ": missing or empty");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const Language* lang = nullptr;
    for (const Language& l : kLanguages)
      if (line == l.fence) lang = &l;
    if (!lang) continue;
    const int start = n;
    std::string block, first;
    bool closed = false;
    while (std::getline(in, line)) {
      ++n;
      if (line == "```") {
        closed = true;
        break;
      }
      if (block.empty()) first = line;
      block += line + "\n";
    }
    const std::string where = page + ":" + std::to_string(start);
    if (!closed) return fail(where + ": the " + lang->fence + " block is not closed");
    const std::string prefix = lang->comment + "docs/examples/";
    const std::size_t end = first.find(lang->extension, prefix.size());
    if (first.rfind(prefix, 0) != 0 || end == std::string::npos)
      return fail(where + ": a " + lang->fence + " block must start with \"" + prefix + "NAME" + lang->extension + "\"");
    const std::string file = first.substr(3, end + lang->extension.size() - 3);  // docs/examples/NAME.ext
    quoted.insert(file);
    if (read(root / file) != block) fail(where + ": the block differs from " + file);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: quoted_test SOURCE_DIR\n");
    return 2;
  }
  const fs::path root = argv[1];
  std::set<std::string> quoted;
  check_page(root, "docs/api.md", quoted);
  check_page(root, "README.md", quoted);
  for (const fs::directory_entry& e : fs::directory_iterator(root / "docs/examples"))
    if ((e.path().extension() == ".cpp" || e.path().extension() == ".c") &&
        !quoted.count("docs/examples/" + e.path().filename().string()))
      fail("docs/examples/" + e.path().filename().string() + " is quoted by no page");
  if (quoted.empty()) fail("no code block found");
  std::printf("%zu example files quoted, %d problems\n", quoted.size(), failures);
  return failures ? 1 : 0;
}
