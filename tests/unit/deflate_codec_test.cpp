// permessage-deflate message codec: round trips, context takeover, limits, corrupt input.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ws/deflate_codec.hpp"

using capstan::ws::Deflater;
using capstan::ws::Inflater;

namespace {

std::string text_of(size_t n) {
  std::string s;
  while (s.size() < n) s += "{\"action\":\"message\",\"data\":\"hello, world\"} ";
  s.resize(n);
  return s;
}

}  // namespace

TEST(DeflateCodec, RoundTripsAndStripsTheSyncTail) {
  for (int bits : {9, 12, 15}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{70000}}) {
      SCOPED_TRACE(std::to_string(bits) + " bits, " + std::to_string(n) + " bytes");
      Deflater d(1, bits);
      Inflater i(15);
      std::string packed, unpacked;
      const std::string msg = text_of(n);
      d.compress(msg, packed, true);
      ASSERT_GE(packed.size(), 1u);
      EXPECT_FALSE(packed.size() >= 4 && packed.compare(packed.size() - 4, 4, std::string("\0\0\xff\xff", 4)) == 0);
      if (n >= 100) {
        EXPECT_LT(packed.size(), n / 2);  // JSON compresses
      }
      ASSERT_EQ(i.inflate(packed, unpacked, 1 << 20, true), capstan::WsError{});
      EXPECT_EQ(unpacked, msg);
    }
  }
}

TEST(DeflateCodec, ContextTakeoverMakesTheSecondMessageSmallerAndStillDecodes) {
  Deflater keep(1, 15), reset(1, 15);
  Inflater with_context(15), without(15);
  const std::string msg = text_of(300);
  std::string a, b, c, out;
  keep.compress(msg, a, false);
  keep.compress(msg, b, false);  // refers back into the first message
  reset.compress(msg, c, true);
  EXPECT_LT(b.size(), a.size());
  ASSERT_EQ(with_context.inflate(a, out, 1 << 20, false), capstan::WsError{});
  ASSERT_EQ(with_context.inflate(b, out, 1 << 20, false), capstan::WsError{});
  EXPECT_EQ(out, msg);
  // An inflater that dropped its window cannot decode a message that refers back.
  ASSERT_EQ(without.inflate(a, out, 1 << 20, true), capstan::WsError{});
  EXPECT_NE(without.inflate(b, out, 1 << 20, true), capstan::WsError{});
}

TEST(DeflateCodec, InflatedSizeIsBoundedByTheLimit) {
  Deflater d(9, 15);
  Inflater i(15);
  std::string bomb, out;
  d.compress(std::string(8 << 20, '\0'), bomb, true);  // 8 MiB of zeros in a few KiB
  ASSERT_LT(bomb.size(), 64u * 1024);
  EXPECT_EQ(i.inflate(bomb, out, 1 << 20, true), capstan::WsError::message_too_big);
  EXPECT_LE(out.size(), (1u << 20) + 1);
  // Exactly at the limit is fine.
  std::string exact;
  d.compress(std::string(1000, 'a'), exact, true);
  EXPECT_EQ(i.inflate(exact, out, 1000, true), capstan::WsError{});
  EXPECT_EQ(i.inflate(exact, out, 999, true), capstan::WsError::message_too_big);
}

TEST(DeflateCodec, CorruptInputIsReportedAndTheInflaterRecovers) {
  Inflater i(15);
  std::string out;
  EXPECT_EQ(i.inflate(std::string("\xff\xff\xff\xff\xff", 5), out, 1 << 20, false), capstan::WsError::invalid_compressed_data);
  Deflater d(1, 15);
  std::string packed;
  d.compress("still works", packed, true);
  ASSERT_EQ(i.inflate(packed, out, 1 << 20, true), capstan::WsError{});
  EXPECT_EQ(out, "still works");
}
