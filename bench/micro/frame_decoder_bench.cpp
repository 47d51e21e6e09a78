// The WebSocket receive path without I/O (ws::FrameDecoder::feed): header checks, unmasking,
// UTF-8 validation and handing each message over, on what one read would return. Two shapes:
// a read full of small masked text frames (20 B payloads, the echo benchmark's message; the
// per-frame overhead dominates) and one 64 KiB text frame (the per-byte cost dominates).
//
// The decoder unmasks in place, so every iteration first restores the masked input from a
// pristine copy with memcpy. That copy is inside the timed region (PauseTiming would cost
// more than what is measured); BM_DecodeInputCopy times the copy alone, to subtract.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "ws/frame_decoder.hpp"

namespace {

using capstan::ws::FrameDecoder;

// Appends one masked client text frame (FIN set) holding `payload`.
void append_masked_frame(std::vector<uint8_t>& out, std::string_view payload) {
  const uint8_t key[4] = {0x12, 0x9a, 0x5c, 0xe1};
  const uint64_t n = payload.size();
  out.push_back(0x81);  // FIN, text
  if (n < 126) {
    out.push_back(static_cast<uint8_t>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(0x80 | 126);
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
  } else {
    out.push_back(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
  }
  out.insert(out.end(), key, key + 4);
  const size_t start = out.size();
  out.insert(out.end(), payload.begin(), payload.end());
  capstan::ws::apply_mask(out.data() + start, payload.size(), key, 0);
}

struct CountingHandler {
  size_t messages = 0;
  size_t bytes = 0;
  bool on_message(capstan::Opcode, std::string_view payload, bool) {
    ++messages;
    bytes += payload.size();
    return true;
  }
  bool on_ping(std::string_view) { return true; }
  bool on_pong(std::string_view) { return true; }
  bool on_close(uint16_t, std::string_view) { return true; }
};

// `frames` masked text frames of `payload_size` bytes each, back to back.
std::vector<uint8_t> make_input(size_t frames, size_t payload_size) {
  const std::string payload(payload_size, 'x');
  std::vector<uint8_t> input;
  for (size_t i = 0; i < frames; ++i) append_masked_frame(input, payload);
  return input;
}

// The decoder lives as long as the connection would: one per benchmark, idle between feeds.
void run(benchmark::State& state, size_t frames, size_t payload_size) {
  const std::vector<uint8_t> pristine = make_input(frames, payload_size);
  std::vector<uint8_t> work(pristine.size());
  const capstan::ws::DecodeLimits limits{.max_message_size = 1 << 20};
  FrameDecoder decoder;
  CountingHandler handler;
  for (auto _ : state) {
    std::memcpy(work.data(), pristine.data(), pristine.size());
    auto result = decoder.feed(work.data(), work.size(), limits, handler);
    benchmark::DoNotOptimize(result);
    benchmark::ClobberMemory();
  }
  const auto iterations = static_cast<size_t>(state.iterations());
  if (handler.messages != frames * iterations || handler.bytes != frames * payload_size * iterations) {
    state.SkipWithError("decoder did not report every message");
    return;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));  // wire bytes
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * frames), benchmark::Counter::kIsRate);
}

// 1000 frames of 20 B: 26,000 bytes, about what a 32 KiB read holds under pipelining.
void BM_DecodeSmallFrames(benchmark::State& state) { run(state, 1000, 20); }
void BM_DecodeOneLargeFrame(benchmark::State& state) { run(state, 1, 64 * 1024); }
BENCHMARK(BM_DecodeSmallFrames);
BENCHMARK(BM_DecodeOneLargeFrame);

// The memcpy that restores the input, alone: subtract it from the figures above.
void BM_DecodeInputCopy(benchmark::State& state) {
  const std::vector<uint8_t> pristine = make_input(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)));
  std::vector<uint8_t> work(pristine.size());
  for (auto _ : state) {
    std::memcpy(work.data(), pristine.data(), pristine.size());
    benchmark::DoNotOptimize(work.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}
BENCHMARK(BM_DecodeInputCopy)->ArgNames({"frames", "payload"})->Args({1000, 20})->Args({1, 64 * 1024});

}  // namespace
