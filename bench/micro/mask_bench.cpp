// Unmasking client payloads (ws::apply_mask, RFC 6455 §5.3): every byte a client sends passes
// through it once, so its cost per byte bounds the receive path. 16 B and 128 B are typical
// chat/JSON messages, where the per-call overhead (key rotation, the tail) dominates; 1 KiB
// and 64 KiB show the throughput of the 8-byte loop.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "ws/mask.hpp"

namespace {

void BM_ApplyMask(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> data(size, 'a');
  const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (auto _ : state) {
    // Masking twice restores the data; once per iteration is enough, the bytes do not matter.
    uint8_t offset = capstan::ws::apply_mask(data.data(), size, key, 0);
    benchmark::DoNotOptimize(offset);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_ApplyMask)->Arg(16)->Arg(128)->Arg(1024)->Arg(64 * 1024);

}  // namespace
