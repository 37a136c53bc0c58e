// The one kernel tester of every family (XNNPACK's microkernel testers are the model): a kernel
// slot and its reference slot run on the same inputs, each input a copy that ends exactly at the
// end of its heap block (ASan sees any read past it), each output in its own buffer with guard
// bytes before and after it (any write outside fails here), at unaligned offsets; every output and
// the returned value must be the same bits. every_tail() walks the lengths a kernel's tails need:
// 0 .. 2 * width + 1, and a few longer ones.
#pragma once
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace lowbit::test {

inline constexpr std::uint8_t kGuard = 0xA5;
inline constexpr std::size_t kGuardBytes = 64;  // a whole AVX-512 vector: more than any kernel's step

// A copy of `values` `offset` elements into a heap block that ends with its last element.
template <class T> class Placed {
 public:
  Placed(std::span<const T> values, std::size_t offset) : buf_(offset + values.size()), n_(values.size()) {
    std::copy(values.begin(), values.end(), buf_.begin() + static_cast<std::ptrdiff_t>(offset));
  }
  const T* data() const { return buf_.data() + (buf_.size() - n_); }
  std::size_t size() const { return n_; }

 private:
  std::vector<T> buf_;
  std::size_t n_;
};

// Room for n elements of T, `offset` elements (keeping T's alignment, not a vector's) past
// kGuardBytes guard bytes, with kGuardBytes more after them.
template <class T> class Guarded {
 public:
  Guarded(std::size_t n, std::size_t offset)
      : buf_(kGuardBytes + (offset + n) * sizeof(T) + kGuardBytes, kGuard), begin_(kGuardBytes + offset * sizeof(T)), n_(n) {}
  T* data() { return reinterpret_cast<T*>(buf_.data() + begin_); }
  std::span<const T> view() const { return {reinterpret_cast<const T*>(buf_.data() + begin_), n_}; }
  // The first guard byte that changed, or nothing.
  ::testing::AssertionResult intact(std::string_view what) const {
    for (std::size_t b = 0; b < buf_.size(); ++b) {
      if (b >= begin_ && b < begin_ + n_ * sizeof(T)) continue;
      if (buf_[b] == kGuard) continue;
      const bool before = b < begin_;
      const std::size_t distance = before ? begin_ - b : b - (begin_ + n_ * sizeof(T)) + 1;
      return ::testing::AssertionFailure() << what << ": written " << distance << " byte(s) " << (before ? "before the start" : "past the end")
                                           << " (" << n_ << " elements of " << sizeof(T) << " bytes)";
    }
    return ::testing::AssertionSuccess();
  }

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t begin_, n_;
};

// How outputs compare: bit for bit, or with any NaN equal to any NaN (only where IEEE 754 leaves
// open which NaN comes out: two different NaNs meeting in one operation).
enum class Nan { exact, any };

template <class T> ::testing::AssertionResult same_bits(std::string_view what, std::span<const T> got, std::span<const T> want,
                                                        Nan nan = Nan::exact) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) == 0) continue;
    if constexpr (std::is_floating_point_v<T>)
      if (nan == Nan::any && std::isnan(got[i]) && std::isnan(want[i])) continue;
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, &got[i], sizeof(T));
    std::memcpy(&b, &want[i], sizeof(T));
    return ::testing::AssertionFailure() << what << "[" << i << "] of " << got.size() << ": got 0x" << std::hex << a
                                         << ", the reference 0x" << b;
  }
  return ::testing::AssertionSuccess();
}

// One call of `kernel` and one of `reference` (the same slot type): call(fn, out...) calls fn on
// the inputs it holds and writes the outputs, one per type Out, counts[i] elements each, placed
// `offset` elements into guarded buffers; what call returns (a kernel's result, or what a call
// adds up, such as BlockStats) must be equal too. The failure names the first difference.
template <class... Out, class Fn, class Call>
::testing::AssertionResult same_as_reference(Fn kernel, Fn reference, std::size_t offset,
                                             std::array<std::size_t, sizeof...(Out)> counts, Call&& call, Nan nan = Nan::exact) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) -> ::testing::AssertionResult {
    std::tuple<Guarded<Out>...> got{Guarded<Out>(counts[I], offset)...}, want{Guarded<Out>(counts[I], offset)...};
    const auto run = [&](Fn fn, std::tuple<Guarded<Out>...>& outs) { return call(fn, std::get<I>(outs).data()...); };
    using Result = decltype(run(kernel, got));
    if constexpr (std::is_void_v<Result>) {
      run(kernel, got);
      run(reference, want);
    } else {
      const Result a = run(kernel, got), b = run(reference, want);
      if (!(a == b))
        return ::testing::AssertionFailure() << "returned " << ::testing::PrintToString(a) << ", the reference "
                                             << ::testing::PrintToString(b);
    }
    ::testing::AssertionResult r = ::testing::AssertionSuccess();
    const auto check = [&](auto&& result) {
      if (r) r = std::move(result);
    };
    (check(std::get<I>(want).intact("the reference's output " + std::to_string(I))), ...);
    (check(std::get<I>(got).intact("output " + std::to_string(I))), ...);
    (check(same_bits<Out>("output " + std::to_string(I), std::get<I>(got).view(), std::get<I>(want).view(), nan)), ...);
    return r;
  }(std::index_sequence_for<Out...>{});
}

// The lengths a kernel of `width` elements a step is tested at: 0 .. 2 * width + 1, then `more`.
inline std::vector<std::size_t> tail_lengths(std::size_t width, std::initializer_list<std::size_t> more = {}) {
  std::vector<std::size_t> v;
  for (std::size_t n = 0; n <= 2 * width + 1; ++n) v.push_back(n);
  v.insert(v.end(), more);
  return v;
}

inline constexpr std::initializer_list<std::size_t> kOffsets = {0, 1, 2, 3};

// check(n, offset) for every length and offset, up to the first failure, which it returns with the
// length and offset.
template <class Check>
::testing::AssertionResult every_tail(const std::vector<std::size_t>& lengths, Check&& check,
                                      std::initializer_list<std::size_t> offsets = kOffsets) {
  for (std::size_t n : lengths)
    for (std::size_t offset : offsets) {
      ::testing::AssertionResult r = check(n, offset);
      if (!r) return ::testing::AssertionFailure() << "n=" << n << " offset=" << offset << ": " << r.message();
    }
  return ::testing::AssertionSuccess();
}

}  // namespace lowbit::test
