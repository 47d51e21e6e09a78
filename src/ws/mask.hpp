// XOR (un)masking of payload bytes (RFC 6455 §5.3), in place, eight bytes at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace capstan::ws {

// Applies `key` starting at position `offset` (0..3) of the key; returns the offset after.
inline uint8_t apply_mask(uint8_t* data, size_t size, const uint8_t key[4], uint8_t offset) noexcept {
  size_t i = 0;
  if (size >= 16) {
    uint8_t rotated[8];
    for (int k = 0; k < 8; ++k) rotated[k] = key[(offset + k) & 3];
    uint64_t word_key;
    std::memcpy(&word_key, rotated, 8);
    for (; i + 8 <= size; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      word ^= word_key;
      std::memcpy(data + i, &word, 8);
    }
  }
  for (; i < size; ++i) data[i] ^= key[(offset + i) & 3];
  return static_cast<uint8_t>((offset + size) & 3);
}

}  // namespace capstan::ws
