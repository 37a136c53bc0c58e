// lowbit/c_api.h on the C++ API: argument checks, then the same calls as C++ users make. Every entry
// point is noexcept: lowbit::Error and other invalid-argument exceptions become LOWBIT_E_INVALID,
// std::bad_alloc LOWBIT_E_NOMEM, anything else LOWBIT_E_INTERNAL, with the message kept per thread.
#include "lowbit/c_api.h"

#include <cstdio>
#include <exception>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "lowbit/fp8.hpp"
#include "lowbit/gse.hpp"
#include "lowbit/nf4.hpp"
#include "lowbit/qeft.hpp"

#if defined(LOWBIT_PROJECT_VERSION_MAJOR)
static_assert(LOWBIT_VERSION_MAJOR == LOWBIT_PROJECT_VERSION_MAJOR && LOWBIT_VERSION_MINOR == LOWBIT_PROJECT_VERSION_MINOR &&
                  LOWBIT_VERSION_PATCH == LOWBIT_PROJECT_VERSION_PATCH,
              "lowbit/c_api.h's LOWBIT_VERSION_* differ from project(lowbit VERSION ...) in CMakeLists.txt");
#endif

namespace {

using lowbit::Rounding;

static_assert(LOWBIT_ROUND_RNE == static_cast<int>(Rounding::rne) && LOWBIT_ROUND_RNA == static_cast<int>(Rounding::rna) &&
              LOWBIT_ROUND_RTZ == static_cast<int>(Rounding::rtz) && LOWBIT_ROUND_SR == static_cast<int>(Rounding::sr));
static_assert(LOWBIT_FP8_E4M3 == static_cast<int>(lowbit::fp8::Format::e4m3) &&
              LOWBIT_FP8_E5M2 == static_cast<int>(lowbit::fp8::Format::e5m2));
static_assert(LOWBIT_NF4 == static_cast<int>(lowbit::nf4::Table::nf4) &&
              LOWBIT_FP4 == static_cast<int>(lowbit::nf4::Table::fp4));

// The last call's message, per thread; a fixed buffer, so that reporting an error cannot fail.
thread_local char last_error[512];

void set_error(const char* fn, const char* what) noexcept {
  std::snprintf(last_error, sizeof last_error, "%s: %s", fn, what);
}

// A NULL buffer: LOWBIT_E_NULL.
struct NullPointer : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

template <class F>
lowbit_status guarded(const char* fn, F&& body) noexcept {
  try {
    body();
    last_error[0] = '\0';
    return LOWBIT_OK;
  } catch (const NullPointer& e) {
    set_error(fn, e.what());
    return LOWBIT_E_NULL;
  } catch (const lowbit::Error& e) {
    set_error(fn, e.what());
    return e.code() == lowbit::Errc::internal ? LOWBIT_E_INTERNAL : LOWBIT_E_INVALID;
  } catch (const std::invalid_argument& e) {  // the standard library's
    set_error(fn, e.what());
    return LOWBIT_E_INVALID;
  } catch (const std::length_error& e) {
    set_error(fn, e.what());
    return LOWBIT_E_INVALID;
  } catch (const std::out_of_range& e) {
    set_error(fn, e.what());
    return LOWBIT_E_INVALID;
  } catch (const std::bad_alloc&) {
    set_error(fn, "out of memory");
    return LOWBIT_E_NOMEM;
  } catch (const std::exception& e) {
    set_error(fn, e.what());
    return LOWBIT_E_INTERNAL;
  } catch (...) {
    set_error(fn, "unknown exception");
    return LOWBIT_E_INTERNAL;
  }
}

// A buffer of n elements: p may be NULL only when n == 0.
template <class T>
std::span<T> buffer(T* p, std::size_t n, const char* name) {
  if (!p && n) throw NullPointer(std::string(name) + " is NULL but has " + std::to_string(n) + " elements");
  if (!p) return {};
  return {p, n};
}

void need(const void* p, const char* name) {
  if (!p) throw NullPointer(std::string(name) + " is NULL");
}

Rounding rounding_of(int r) {
  if (r < LOWBIT_ROUND_RNE || r > LOWBIT_ROUND_SR)
    throw lowbit::Error("rounding must be LOWBIT_ROUND_RNE, _RNA, _RTZ or _SR (0..3), got " + std::to_string(r));
  return static_cast<Rounding>(r);
}

lowbit::fp8::Options fp8_options(const lowbit_fp8_options* c) {
  const lowbit_fp8_options d = LOWBIT_FP8_OPTIONS_INIT;
  if (!c) c = &d;
  if (c->format != LOWBIT_FP8_E4M3 && c->format != LOWBIT_FP8_E5M2)
    throw lowbit::Error("format must be LOWBIT_FP8_E4M3 or LOWBIT_FP8_E5M2 (0 or 1), got " + std::to_string(c->format));
  lowbit::fp8::Options o;
  o.format = static_cast<lowbit::fp8::Format>(c->format);
  if (c->profile) o.profile = lowbit::fp8::profile(c->profile);
  o.rounding = rounding_of(c->rounding);
  o.seed = c->seed;
  o.index0 = c->index0;
  return o;
}

lowbit::gse::Options gse_options(const lowbit_gse_options* c) {
  const lowbit_gse_options d = LOWBIT_GSE_OPTIONS_INIT;
  if (!c) c = &d;
  lowbit::gse::Options o;
  o.format.bits = c->bits;
  o.format.group = c->group;
  o.format.exp_bits = c->exp_bits;
  o.format.exp_bias = c->exp_bias >= 0 ? c->exp_bias : c->exp_bits == 8 ? 127 : 15;
  o.format.exp_offset = c->exp_offset;
  if (const auto error = lowbit::gse::validate(o.format)) throw lowbit::Error(*error);
  o.rounding = rounding_of(c->rounding);
  o.seed = c->seed;
  o.index0 = c->index0;
  return o;
}

lowbit::nf4::Options nf4_options(const lowbit_nf4_options* c) {
  const lowbit_nf4_options d = LOWBIT_NF4_OPTIONS_INIT;
  if (!c) c = &d;
  if (c->table != LOWBIT_NF4 && c->table != LOWBIT_FP4)
    throw lowbit::Error("table must be LOWBIT_NF4 or LOWBIT_FP4 (0 or 1), got " + std::to_string(c->table));
  lowbit::nf4::Options o;
  o.table = static_cast<lowbit::nf4::Table>(c->table);
  if (c->profile) o.profile = lowbit::nf4::profile(c->profile);
  o.block = c->block;
  lowbit::nf4::params(o);  // validates profile and block
  return o;
}

}  // namespace

extern "C" {

uint32_t lowbit_version(void) noexcept { return LOWBIT_VERSION; }

const char* lowbit_version_string(void) noexcept { return LOWBIT_VERSION_STRING; }

const char* lowbit_last_error(void) noexcept { return last_error; }

const char* lowbit_status_name(int status) noexcept {
  switch (status) {
    case LOWBIT_OK: return "ok";
    case LOWBIT_E_INVALID: return "invalid argument";
    case LOWBIT_E_NULL: return "null pointer";
    case LOWBIT_E_NOMEM: return "out of memory";
    case LOWBIT_E_INTERNAL: return "internal error";
    default: return "unknown status";
  }
}

lowbit_status lowbit_fp8_encode_f32(const float* in, size_t n, uint8_t* out, const lowbit_fp8_options* o) noexcept {
  return guarded(__func__, [&] {
    const lowbit::fp8::Options opts = fp8_options(o);
    lowbit::fp8::encode(buffer(in, n, "in"), buffer(out, n, "out"), opts);
  });
}

lowbit_status lowbit_fp8_decode_f32(const uint8_t* in, size_t n, float* out, const lowbit_fp8_options* o) noexcept {
  return guarded(__func__, [&] {
    const lowbit::fp8::Options opts = fp8_options(o);
    lowbit::fp8::decode(buffer(in, n, "in"), buffer(out, n, "out"), opts);
  });
}

size_t lowbit_gse_groups(size_t n, int group) noexcept {
  return group > 0 ? n / static_cast<size_t>(group) + (n % static_cast<size_t>(group) != 0) : 0;
}

lowbit_status lowbit_gse_encode_f32(const float* in, size_t n, int8_t* codes, uint8_t* exps, size_t n_exps,
                                    const lowbit_gse_options* o, lowbit_gse_stats* stats) noexcept {
  return guarded(__func__, [&] {
    const lowbit::gse::Options opts = gse_options(o);
    const lowbit::BlockStats s =
        lowbit::gse::encode(buffer(in, n, "in"), buffer(codes, n, "codes"), buffer(exps, n_exps, "exps"), opts);
    if (stats) *stats = {s.groups, s.nan_groups, s.exp_underflow, s.exp_overflow, s.bumped, s.saturated};
  });
}

lowbit_status lowbit_gse_decode_f32(const int8_t* codes, size_t n, const uint8_t* exps, size_t n_exps, float* out,
                                    const lowbit_gse_options* o) noexcept {
  return guarded(__func__, [&] {
    const lowbit::gse::Options opts = gse_options(o);
    lowbit::gse::decode(buffer(codes, n, "codes"), buffer(exps, n_exps, "exps"), buffer(out, n, "out"), opts);
  });
}

size_t lowbit_nf4_packed_bytes(size_t n) noexcept { return n / 2 + n % 2; }

size_t lowbit_nf4_blocks(size_t n, int block) noexcept { return lowbit_gse_groups(n, block); }

lowbit_status lowbit_nf4_quantize_f32(const float* in, size_t n, uint8_t* packed, size_t n_packed, float* absmax,
                                      size_t n_absmax, const lowbit_nf4_options* o) noexcept {
  return guarded(__func__, [&] {
    const lowbit::nf4::Options opts = nf4_options(o);
    lowbit::nf4::encode(buffer(in, n, "in"), buffer(packed, n_packed, "packed"), buffer(absmax, n_absmax, "absmax"),
                          opts);
  });
}

lowbit_status lowbit_nf4_dequantize_f32(const uint8_t* packed, size_t n_packed, const float* absmax, size_t n_absmax,
                                        float* out, size_t n, const lowbit_nf4_options* o) noexcept {
  return guarded(__func__, [&] {
    const lowbit::nf4::Options opts = nf4_options(o);
    lowbit::nf4::decode(buffer(packed, n_packed, "packed"), buffer(absmax, n_absmax, "absmax"),
                            buffer(out, n, "out"), opts);
  });
}

lowbit_status lowbit_qeft_matvec(const lowbit_qeft_matrix* w, const float* x, size_t n_x, float* y,
                                 size_t n_y) noexcept {
  return guarded(__func__, [&] {
    need(w, "w");
    const lowbit::qeft::Matrix m{w->oc, w->ic, w->k, w->group, w->qweight, w->scales, w->scaled_zeros, w->oweight};
    lowbit::qeft::matvec(m, buffer(x, n_x, "x"), buffer(y, n_y, "y"));
  });
}

}  // extern "C"
