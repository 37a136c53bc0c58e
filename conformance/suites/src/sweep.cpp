#include "lowbit/conformance/sweep.hpp"

#include <algorithm>
#include <bit>
#include <exception>
#include <thread>
#include <vector>

namespace lowbit::conformance {

unsigned default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void sweep_f32(fp8::EncodeFn<float> fn, const fp8::EncodeParams& p, std::uint64_t begin,
               std::uint64_t end, unsigned threads, const SweepSink& sink) {
  constexpr std::uint64_t kChunk = 1 << 22;
  threads = std::max(1u, threads);
  struct Slot {
    std::vector<float> in = std::vector<float>(kChunk);
    std::vector<std::uint8_t> out = std::vector<std::uint8_t>(kChunk);
    std::uint64_t first = 0, count = 0;
    std::exception_ptr error;  // what `fn` threw (e.g. NotSupported): rethrown on the calling thread
  };
  std::vector<Slot> slots(threads);
  auto work = [&](Slot& s) {
    try {
      for (std::uint64_t i = 0; i < s.count; ++i)
        s.in[i] = std::bit_cast<float>(static_cast<std::uint32_t>(s.first + i));
      fp8::EncodeParams q = p;
      q.index0 = p.index0 + s.first;
      fn(s.count, s.in.data(), s.out.data(), &q);
    } catch (...) {
      s.error = std::current_exception();
    }
  };
  for (std::uint64_t next = begin; next < end;) {
    std::vector<std::thread> pool;
    unsigned used = 0;
    for (; used < threads && next < end; ++used) {
      slots[used].first = next;
      slots[used].count = std::min(kChunk, end - next);
      next += slots[used].count;
      if (used) pool.emplace_back(work, std::ref(slots[used]));
    }
    work(slots[0]);
    for (auto& t : pool) t.join();
    for (unsigned i = 0; i < used; ++i)
      if (slots[i].error) std::rethrow_exception(slots[i].error);
    for (unsigned i = 0; i < used; ++i)
      sink(slots[i].first, std::span(slots[i].out.data(), slots[i].count));
  }
}

}  // namespace lowbit::conformance
