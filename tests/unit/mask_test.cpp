// apply_mask against the obvious byte loop: every size around the 8-byte word path, every key
// offset, and buffers that start at every alignment.
#include "ws/mask.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace capstan::ws {
namespace {

constexpr uint8_t kKey[4] = {0xA1, 0x3C, 0x5E, 0xF7};

std::vector<uint8_t> sample(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + 7);
  return v;
}

void naive_mask(uint8_t* data, size_t size, const uint8_t key[4], uint8_t offset) {
  for (size_t i = 0; i < size; ++i) data[i] ^= key[(offset + i) % 4];
}

TEST(Mask, MatchesNaiveLoopForEverySizeOffsetAndAlignment) {
  for (size_t align = 0; align < 8; ++align) {
    for (size_t size = 0; size <= 100; ++size) {
      for (uint8_t offset = 0; offset < 4; ++offset) {
        SCOPED_TRACE(testing::Message() << "align " << align << " size " << size << " offset " << int(offset));
        // Guard bytes on both sides must stay untouched.
        std::vector<uint8_t> buf(align + size + 8, 0xEE);
        std::vector<uint8_t> data = sample(size);
        std::copy(data.begin(), data.end(), buf.begin() + static_cast<std::ptrdiff_t>(align));
        std::vector<uint8_t> expected = buf;
        naive_mask(expected.data() + align, size, kKey, offset);
        uint8_t next = apply_mask(buf.data() + align, size, kKey, offset);
        EXPECT_EQ(buf, expected);
        EXPECT_EQ(next, (offset + size) % 4);
      }
    }
  }
}

TEST(Mask, ChunkedMaskingEqualsOneCall) {
  // Unmasking a payload in pieces, carrying the returned offset, equals unmasking it at once.
  const std::vector<uint8_t> original = sample(1000);
  std::vector<uint8_t> once = original;
  apply_mask(once.data(), once.size(), kKey, 0);
  for (size_t piece : {1u, 3u, 7u, 8u, 15u, 16u, 17u, 33u, 999u}) {
    SCOPED_TRACE(piece);
    std::vector<uint8_t> chunked = original;
    uint8_t offset = 0;
    for (size_t pos = 0; pos < chunked.size(); pos += piece)
      offset = apply_mask(chunked.data() + pos, std::min(piece, chunked.size() - pos), kKey, offset);
    EXPECT_EQ(chunked, once);
  }
}

TEST(Mask, MaskingTwiceRestoresTheData) {
  const std::vector<uint8_t> original = sample(257);
  std::vector<uint8_t> data = original;
  apply_mask(data.data(), data.size(), kKey, 2);
  EXPECT_NE(data, original);
  apply_mask(data.data(), data.size(), kKey, 2);
  EXPECT_EQ(data, original);
}

TEST(Mask, RfcSample) {
  // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
  const uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
  uint8_t data[5] = {0x7F, 0x9F, 0x4D, 0x51, 0x58};
  EXPECT_EQ(apply_mask(data, 5, key, 0), 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(data), 5), "Hello");
}

}  // namespace
}  // namespace capstan::ws
