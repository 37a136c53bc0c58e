#include "stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "lowbit/formats/binary_float.hpp"
#include "lowbit/io/npy.hpp"

namespace lowbit::cli {
namespace {

constexpr std::size_t kHead = 16;  // bytes read to recognise an input

bool is_stdin(const std::string& path) { return path.empty() || path == "-"; }
std::string display(const std::string& path) { return is_stdin(path) ? "standard input" : fmt::format("'{}'", path); }

std::uint64_t le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// Another integer dtype of the same size: an integer .npy holding a float's bit patterns.
bool is_bits_of(std::string_view descr, const Element& e) {
  const io::npy::DtypeInfo* d = io::npy::find_dtype(descr);
  return e.is_float && d && d->size == e.size && (descr[1] == 'u' || descr[1] == 'i') && descr != e.descr;
}

}  // namespace

std::string_view describe(FileKind k) {
  switch (k) {
    case FileKind::raw: return "a raw stream";
    case FileKind::npy: return "a .npy array";
    case FileKind::safetensors: return "a .safetensors file";
    case FileKind::gse: return "a .gse stream";
  }
  return "?";
}

FileKind sniff(std::span<const std::uint8_t> head) {
  const auto starts = [&](std::string_view magic) {
    return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin(),
                                                     [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
  };
  if (starts("\x93NUMPY")) return FileKind::npy;
  if (starts("LBGS") && head.size() > 4 && head[4] == 1) return FileKind::gse;
  // safetensors: an 8-byte header length, then the JSON header, which starts '{"' (or is '{}').
  if (head.size() >= 10 && head[8] == '{' && (head[9] == '"' || head[9] == '}')) {
    const std::uint64_t n = le64(head.data());
    if (n >= 2 && n <= (std::uint64_t{1} << 32)) return FileKind::safetensors;
  }
  return FileKind::raw;
}

const Element& element(std::string_view name) {
  for (const Element* e : {&kF32, &kF64, &kF16, &kBf16})
    if (e->name == name) return *e;
  throw UsageError(fmt::format("unknown element type '{}'", name));
}

InputStream::InputStream(const std::string& path, const Element& e, bool bits_as_float)
    : f_(is_stdin(path) ? stdin : std::fopen(path.c_str(), "rb")), name_(display(path)), element_(e) {
  if (!f_) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  head_.resize(kHead);
  std::size_t got = 0;
  while (got < kHead) {
    const std::size_t n = std::fread(head_.data() + got, 1, kHead - got, f_.get());
    if (n == 0) break;
    got += n;
  }
  head_.resize(got);
  const FileKind kind = sniff(head_);
  if (kind == FileKind::safetensors || kind == FileKind::gse)
    throw UsageError(fmt::format("{} is {}, not a raw {} stream or a .npy array: this command reads values", name_,
                                 describe(kind), e.name));
  if (kind == FileKind::raw) {
    if (names_npy(path))
      throw UsageError(fmt::format("{} is named .npy but is not a .npy array (no \\x93NUMPY magic)", name_));
    return;
  }
  std::vector<std::uint8_t> all = std::move(head_);  // a .npy array: parsed whole, served from memory
  std::vector<std::uint8_t> rest(1 << 20);
  while (const std::size_t n = std::fread(rest.data(), 1, rest.size(), f_.get())) all.insert(all.end(), rest.begin(), rest.begin() + n);
  io::npy::Array a;
  try {
    a = io::npy::parse(all);
  } catch (const std::runtime_error& err) {
    throw UsageError(fmt::format("{}: {}", name_, err.what()));
  }
  if (a.descr != e.descr && !(bits_as_float && is_bits_of(a.descr, e))) {
    if (is_bits_of(a.descr, e))
      throw UsageError(fmt::format("{} holds {} integers, not {} values ({}): give --bits-as-float to read them as {} bit "
                                   "patterns", name_, a.descr, e.name, e.descr, e.name));
    throw UsageError(fmt::format("{} holds {} ({}-byte elements), expected {} ({} values)", name_, a.descr,
                                 io::npy::find_dtype(a.descr)->size, e.descr, e.name));
  }
  head_ = std::move(a.bytes);
  shape_ = a.shape.empty() ? std::vector<std::uint64_t>{1} : std::move(a.shape);
  npy_ = true;
}

std::size_t InputStream::fill(std::uint8_t* dst, std::size_t bytes) {
  const std::size_t from_head = std::min(bytes, head_.size() - head_pos_);
  if (from_head) std::memcpy(dst, head_.data() + head_pos_, from_head);
  head_pos_ += from_head;
  std::size_t got = from_head;
  while (!npy_ && got < bytes) {
    const std::size_t n = std::fread(dst + got, 1, bytes - got, f_.get());
    if (n == 0) break;
    got += n;
  }
  if (std::ferror(f_.get())) throw UsageError(fmt::format("error reading {}: {}", name_, std::strerror(errno)));
  return got;
}

std::size_t InputStream::read(std::vector<std::uint8_t>& buf, std::size_t max_elements) {
  buf.resize(max_elements * element_.size);
  const std::size_t got = fill(buf.data(), buf.size());
  total_ += got;
  if (got % element_.size)
    throw UsageError(fmt::format("{} has {} bytes, not a multiple of the {}-byte {} element", name_, total_, element_.size,
                                 element_.name));
  buf.resize(got);
  return got / element_.size;
}

template <class T> Values<T> read_values(const std::string& path, const Element& e, bool bits_as_float) {
  InputStream in(path, e, bits_as_float);
  std::vector<std::uint8_t> buf, all;
  while (in.read(buf, 1 << 20)) all.insert(all.end(), buf.begin(), buf.end());
  Values<T> v{std::vector<T>(all.size() / sizeof(T)), in.shape()};
  if (!all.empty()) std::memcpy(v.values.data(), all.data(), all.size());
  return v;
}
template Values<float> read_values(const std::string&, const Element&, bool);
template Values<double> read_values(const std::string&, const Element&, bool);
template Values<f16> read_values(const std::string&, const Element&, bool);
template Values<bf16> read_values(const std::string&, const Element&, bool);
template Values<std::uint8_t> read_values(const std::string&, const Element&, bool);
template Values<std::int32_t> read_values(const std::string&, const Element&, bool);

Input read_input(const std::string& path) {
  std::FILE* f = stdin;
  if (!is_stdin(path)) {
    f = std::fopen(path.c_str(), "rb");
    if (!f) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  }
  Input in{FileKind::raw, {}};
  std::vector<std::uint8_t> buf(1 << 20);
  while (const std::size_t n = std::fread(buf.data(), 1, buf.size(), f)) in.bytes.insert(in.bytes.end(), buf.begin(), buf.begin() + n);
  const bool failed = std::ferror(f);
  if (f != stdin) std::fclose(f);
  if (failed) throw UsageError(fmt::format("error reading {}", display(path)));
  in.kind = sniff(std::span(in.bytes).first(std::min(kHead, in.bytes.size())));
  return in;
}

std::vector<std::uint8_t> read_container(const std::string& path, FileKind kind, std::string_view what) {
  Input in = read_input(path);
  if (in.kind != kind) throw UsageError(fmt::format("{} is {}, not {}", display(path), describe(in.kind), what));
  return std::move(in.bytes);
}

namespace {
// "" or "-": standard output.
conformance::OutputFile open_output(const std::string& path, const Element* npy) {
  if (is_stdin(path)) return conformance::OutputFile();
  if (names_npy(path) && !npy)
    throw UsageError(fmt::format("cannot write '{}': this command writes a file format of its own, not an array", path));
  return conformance::OutputFile(path);
}
}  // namespace

OutputStream::OutputStream(const std::string& path, const Element* npy)
    : file_(open_output(path, npy)), npy_(names_npy(path) ? npy : nullptr) {}

void OutputStream::write(std::span<const std::uint8_t> bytes) {
  if (npy_)
    npy_data_.insert(npy_data_.end(), bytes.begin(), bytes.end());
  else
    file_.write(bytes);
}

void OutputStream::commit(std::vector<std::uint64_t> shape) {
  if (npy_) {
    if (shape.empty()) shape = {npy_data_.size() / npy_->size};
    file_.write(io::npy::serialize({std::string(npy_->descr), std::move(shape), std::move(npy_data_)}));
  }
  file_.commit();
}

bool names_npy(const std::string& path) { return path.size() > 4 && path.ends_with(".npy"); }

void write_file(const std::string& path, std::span<const std::uint8_t> bytes) {
  OutputStream out(path);
  out.write(bytes);
  out.commit();
}

}  // namespace lowbit::cli
