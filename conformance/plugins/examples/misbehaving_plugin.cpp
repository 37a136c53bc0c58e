// A vendor plugin that misbehaves around right results, for the loader's defences (plugin.cpp): every
// function computes what the example plugin does, then LOWBIT_MISBEHAVE picks what goes wrong:
//   hang      every call never returns;
//   fork      the first call of each process starts a helper process that sleeps forever holding
//             lowbit's file descriptors (its pid written to $LOWBIT_MISBEHAVE_PIDFILE when set);
//   overrun   every call writes 4 bytes past the end of each of its output buffers;
//   underrun  every call writes 1 byte before the start of each of its output buffers;
//   exit      every call calls exit(0);
//   crash-load        the library's constructor dies of SIGSEGV (while it is loaded);
//   crash-descriptor  lowbit_vendor_descriptor_v1 dies of SIGSEGV;
//   hang-descriptor   lowbit_vendor_descriptor_v1 never returns.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "example_codecs.hpp"

namespace {

using namespace lowbit_plugin;

bool misbehave_is(const char* what) {
  const char* v = std::getenv("LOWBIT_MISBEHAVE");
  return v && std::strcmp(v, what) == 0;
}

[[noreturn]] void hang() {
  for (;;) ::pause();
}
[[noreturn]] void crash() {
  std::signal(SIGSEGV, SIG_DFL);  // a real signal, whatever the sanitizers
  std::raise(SIGSEGV);
  std::abort();
}

void start_helper() {
  const pid_t pid = ::fork();
  if (pid == 0) hang();
  const char* file = std::getenv("LOWBIT_MISBEHAVE_PIDFILE");
  if (std::FILE* f = pid > 0 && file ? std::fopen(file, "w") : nullptr) {
    std::fprintf(f, "%d\n", static_cast<int>(pid));
    std::fclose(f);
  }
}

struct Buffer {
  void* data;
  std::size_t bytes;
};

// The misbehaviour asked for, after a call whose output buffers are `outs`.
int misbehave(int status, std::initializer_list<Buffer> outs) {
  if (misbehave_is("hang")) hang();
  if (misbehave_is("exit")) std::exit(0);
  if (misbehave_is("fork")) {
    [[maybe_unused]] static const bool started = (start_helper(), true);
  }
  for (const Buffer& o : outs) {
    auto* p = static_cast<unsigned char*>(o.data);
    if (!p) continue;
    // Bytes flipped: changed whatever was there.
    if (misbehave_is("overrun"))
      for (std::size_t i = 0; i < 4; ++i) p[o.bytes + i] = static_cast<unsigned char>(~p[o.bytes + i]);
    if (misbehave_is("underrun")) p[-1] = static_cast<unsigned char>(~p[-1]);
  }
  return status;
}

std::size_t blocks(std::size_t n, std::size_t size) { return (n + size - 1) / size; }

template <class In, class Raw> int enc(size_t n, const Raw* in, uint8_t* out, const lowbit_fp8_options* o) {
  return misbehave(encode<In>(n, in, out, o), {{out, n}});
}
template <class Out, class Raw> int dec(size_t n, const uint8_t* in, Raw* out, const lowbit_fp8_options* o) {
  return misbehave(decode<Out>(n, in, out, o), {{out, n * sizeof(Raw)}});
}
int quantize(size_t n, const float* in, uint8_t* packed, float* absmax, const lowbit_nf4_options* o) {
  const int s = nf4_quantize(n, in, packed, absmax, o);
  return misbehave(s, {{packed, (n + 1) / 2}, {absmax, o ? blocks(n, o->block) * sizeof(float) : 0}});
}
int dequantize(size_t n, const uint8_t* packed, const float* absmax, float* out, const lowbit_nf4_options* o) {
  return misbehave(nf4_dequantize(n, packed, absmax, out, o), {{out, n * sizeof(float)}});
}
template <class In, class Raw>
int gse_enc(size_t n, const Raw* in, int8_t* c, uint8_t* e, lowbit_gse_stats* s, const lowbit_gse_options* o) {
  const int status = gse_encode<In>(n, in, c, e, s, o);
  return misbehave(status, {{c, n}, {e, o ? blocks(n, o->format.group) : 0}, {s, s ? sizeof *s : 0}});
}
template <class Out, class Raw>
int gse_dec(size_t n, const int8_t* c, const uint8_t* e, Raw* out, const lowbit_gse_format* f) {
  return misbehave(gse_decode<Out>(n, c, e, out, f), {{out, n * sizeof(Raw)}});
}
int mx_enc(size_t n, const float* in, uint8_t* codes, uint8_t* scales, const lowbit_mx_options* o) {
  return misbehave(mx_encode(n, in, codes, scales, o), {{codes, n}, {scales, blocks(n, 32)}});
}
int mx_dec(size_t n, const uint8_t* codes, const uint8_t* scales, float* out, const lowbit_mx_options* o) {
  return misbehave(mx_decode(n, codes, scales, out, o), {{out, n * sizeof(float)}});
}
int matvec(const lowbit_qeft_matrix* m, const float* x, float* y) {
  return misbehave(qeft_matvec(m, x, y), {{y, m ? m->oc * sizeof(float) : 0}});
}
int gemm(size_t m, size_t n, size_t k, const int8_t* a, const uint8_t* ae, const int8_t* b, const uint8_t* be,
         const lowbit_gse_format* fa, const lowbit_gse_format* fb, uint32_t accumulate, float* c) {
  return misbehave(gse_gemm(m, n, k, a, ae, b, be, fa, fb, accumulate, c), {{c, m * n * sizeof(float)}});
}

const lowbit_vendor_descriptor kDescriptor{LOWBIT_VENDOR_ABI_VERSION, "misbehaving-vendor",
                                           enc<float, float>, enc<double, double>, enc<f16, uint16_t>, enc<bf16, uint16_t>,
                                           dec<float, float>, dec<f16, uint16_t>, dec<bf16, uint16_t>,
                                           quantize, dequantize,
                                           gse_enc<float, float>, gse_enc<f16, uint16_t>, gse_enc<bf16, uint16_t>,
                                           gse_dec<float, float>, gse_dec<f16, uint16_t>, gse_dec<bf16, uint16_t>,
                                           mx_enc, mx_dec, matvec, gemm};

[[gnu::constructor]] void on_load() {
  if (misbehave_is("crash-load")) crash();
}

}  // namespace

extern "C" LOWBIT_VENDOR_EXPORT const lowbit_vendor_descriptor* lowbit_vendor_descriptor_v1(void) {
  if (misbehave_is("crash-descriptor")) crash();
  if (misbehave_is("hang-descriptor")) hang();
  return &kDescriptor;
}
