// XOR (un)masking of payload bytes (RFC 6455 §5.3), in place, eight bytes at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <bit>
#include <cstring>

namespace capstan::ws {

// Applies `key` starting at position `offset` (0..3) of the key; returns the offset after.
// Small payloads dominate real traffic (20-byte JSON): the word loop starts at 8 bytes and a
// 4-byte step handles most of the tail, so a typical message needs a handful of operations.
inline uint8_t apply_mask(uint8_t* data, size_t size, const uint8_t key[4], uint8_t offset) noexcept {
  // The key as it lines up with data[0]: bytes key[offset], key[offset+1], ... (a rotation
  // of the 32-bit word; `rotated` keeps the same bytes for the tail).
  uint32_t key32;
  std::memcpy(&key32, key, 4);
  const unsigned shift = 8u * offset;
  if (shift) key32 = std::endian::native == std::endian::little ? (key32 >> shift) | (key32 << (32 - shift))
                                                                : (key32 << shift) | (key32 >> (32 - shift));
  uint8_t rotated[4];
  std::memcpy(rotated, &key32, 4);
  const uint64_t key64 = (uint64_t{key32} << 32) | key32;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= key64;
    std::memcpy(data + i, &word, 8);
  }
  // Every 8-byte step keeps the key phase, so the tail starts at `offset` again.
  if (i + 4 <= size) {
    uint32_t word;
    std::memcpy(&word, data + i, 4);
    word ^= key32;
    std::memcpy(data + i, &word, 4);
    i += 4;
  }
  for (size_t k = 0; i < size; ++i, ++k) data[i] ^= rotated[k];
  return static_cast<uint8_t>((offset + size) & 3);
}

}  // namespace capstan::ws
