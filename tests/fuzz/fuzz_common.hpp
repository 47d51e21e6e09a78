// Shared by the fuzz targets: a tiny deterministic generator that turns a few input bytes into
// the places where the input is cut into separate feeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace capstan::fuzz {

// Aborts with a message: libFuzzer records the input as a crash.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}
#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) ::capstan::fuzz::fail(#cond); \
  } while (0)

// Piece sizes (each >= 1) summing to `size`, from a seed; `max_piece` bounds each piece.
inline std::vector<size_t> split_sizes(size_t size, uint32_t seed, size_t max_piece) {
  std::vector<size_t> pieces;
  uint32_t x = seed | 1;
  if (max_piece == 0) max_piece = 1;
  for (size_t left = size; left > 0;) {
    x ^= x << 13;  // xorshift32
    x ^= x >> 17;
    x ^= x << 5;
    size_t n = 1 + x % max_piece;
    if (n > left) n = left;
    pieces.push_back(n);
    left -= n;
  }
  return pieces;
}

}  // namespace capstan::fuzz
