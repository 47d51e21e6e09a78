// Server frame headers (minimal length encoding at the 125/126/65535/65536 boundaries), the
// round trip encoder -> client masking -> decoder, and close payloads cut on a UTF-8 boundary.
#include "ws/frame_encoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/utf8.hpp"
#include "ws_test_support.hpp"

namespace capstan::ws::test {
namespace {

std::vector<uint8_t> header(Opcode op, uint64_t size, bool fin = true, bool rsv1 = false) {
  std::vector<uint8_t> out(kMaxHeaderSize + 4, 0xEE);
  const size_t n = encode_frame_header(out.data(), op, size, fin, rsv1);
  for (size_t i = n; i < out.size(); ++i) EXPECT_EQ(out[i], 0xEE) << "wrote past the returned size";
  out.resize(n);
  return out;
}

TEST(FrameEncoder, SevenBitLengths) {
  EXPECT_EQ(header(Opcode::text, 0), (std::vector<uint8_t>{0x81, 0x00}));
  EXPECT_EQ(header(Opcode::binary, 1), (std::vector<uint8_t>{0x82, 0x01}));
  EXPECT_EQ(header(Opcode::text, 125), (std::vector<uint8_t>{0x81, 125}));
}

TEST(FrameEncoder, SixteenBitLengths) {
  EXPECT_EQ(header(Opcode::binary, 126), (std::vector<uint8_t>{0x82, 126, 0x00, 0x7E}));
  EXPECT_EQ(header(Opcode::binary, 256), (std::vector<uint8_t>{0x82, 126, 0x01, 0x00}));
  EXPECT_EQ(header(Opcode::binary, 65535), (std::vector<uint8_t>{0x82, 126, 0xFF, 0xFF}));
}

TEST(FrameEncoder, SixtyFourBitLengths) {
  EXPECT_EQ(header(Opcode::binary, 65536), (std::vector<uint8_t>{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header(Opcode::text, 0x0102030405060708ULL), (std::vector<uint8_t>{0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(FrameEncoder, HeaderSizeAtTheBoundaries) {
  const std::pair<uint64_t, size_t> cases[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {uint64_t{1} << 40, 10}};
  for (auto [size, expected] : cases) {
    SCOPED_TRACE(size);
    EXPECT_EQ(frame_header_size(size), expected);
    EXPECT_EQ(header(Opcode::binary, size).size(), expected);
  }
  static_assert(frame_header_size(125) == 2 && frame_header_size(126) == 4);
}

TEST(FrameEncoder, FlagsAndOpcodes) {
  EXPECT_EQ(header(Opcode::text, 3, false)[0], 0x01);
  EXPECT_EQ(header(Opcode::continuation, 3, true)[0], 0x80);
  EXPECT_EQ(header(Opcode::continuation, 3, false)[0], 0x00);
  EXPECT_EQ(header(Opcode::text, 3, true, true)[0], 0xC1);
  EXPECT_EQ(header(Opcode::close, 2)[0], 0x88);
  EXPECT_EQ(header(Opcode::ping, 0)[0], 0x89);
  EXPECT_EQ(header(Opcode::pong, 0)[0], 0x8A);
  EXPECT_EQ(header(Opcode::ping, 0)[1] & 0x80, 0) << "server frames are never masked";
}

// What a client does to a server frame before sending it back: set the mask bit and insert a
// key after the length, then mask the payload.
std::string mask_server_frame(const std::vector<uint8_t>& head, std::string_view payload, const uint8_t key[4]) {
  std::string out(head.begin(), head.end());
  out[1] = static_cast<char>(out[1] | 0x80);
  out.append(reinterpret_cast<const char*>(key), 4);
  std::string masked(payload);
  apply_mask(reinterpret_cast<uint8_t*>(masked.data()), masked.size(), key, 0);
  return out + masked;
}

TEST(FrameEncoder, RoundTripThroughTheDecoder) {
  const uint8_t key[4] = {0x11, 0x22, 0x83, 0xF4};
  for (size_t size : {0, 1, 125, 126, 127, 65535, 65536, 100000}) {
    SCOPED_TRACE(size);
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('A' + i % 23);
    const std::string wire = mask_server_frame(header(Opcode::text, size), payload, key);
    EXPECT_EQ(wire.size(), frame_header_size(size) + 4 + size);
    Outcome got = decode(wire, random_cuts(wire.size(), 5, 5000));
    EXPECT_STREQ(status_name(got.status), "ok");
    EXPECT_EQ(got.events, std::vector<Event>{Event::text(payload)});
  }
}

TEST(FrameEncoder, RoundTripFragmentedAndControl) {
  const uint8_t key[4] = {0xDE, 0xAD, 0xBE, 0xEF};
  const std::string part1(200, 'x'), part2(70000, 'y');
  const std::string ping_payload = "are you there";
  const std::string wire = mask_server_frame(header(Opcode::binary, part1.size(), false), part1, key) +
                           mask_server_frame(header(Opcode::ping, ping_payload.size()), ping_payload, key) +
                           mask_server_frame(header(Opcode::continuation, part2.size(), true), part2, key);
  Outcome got = decode_whole(wire);
  EXPECT_EQ(got.events, (std::vector<Event>{Event::ping(ping_payload), Event::binary(part1 + part2)}));
}

// ---- Close payloads --------------------------------------------------------------------------

std::string close_payload_of(uint16_t code, std::string_view reason) {
  uint8_t out[125 + 8];
  std::fill(std::begin(out), std::end(out), 0xEE);
  const size_t n = encode_close_payload(out, code, reason.data(), reason.size());
  EXPECT_LE(n, 125u);
  for (size_t i = n; i < sizeof out; ++i) EXPECT_EQ(out[i], 0xEE) << "wrote past the returned size";
  return std::string(reinterpret_cast<char*>(out), n);
}

TEST(CloseFrame, CodeInNetworkOrderThenReason) {
  EXPECT_EQ(close_payload_of(1000, ""), std::string("\x03\xE8", 2));
  EXPECT_EQ(close_payload_of(1001, "going away"), std::string("\x03\xE9going away"));
  EXPECT_EQ(close_payload_of(4999, "x"), std::string("\x13\x87x"));
}

TEST(CloseFrame, ReasonUpTo123BytesIsKept) {
  const std::string reason(123, 'r');
  EXPECT_EQ(close_payload_of(1000, reason).substr(2), reason);
}

TEST(CloseFrame, LongAsciiReasonIsCutTo123Bytes) {
  const std::string reason(500, 'r');
  EXPECT_EQ(close_payload_of(1000, reason).substr(2), std::string(123, 'r'));
  EXPECT_EQ(close_payload_of(1000, std::string(124, 's')).size(), 125u);
}

TEST(CloseFrame, CutFallsOnACharacterBoundary) {
  // A multi-byte character placed at every position around the 123-byte cut: the reason keeps
  // the longest prefix that ends on a character boundary and fits.
  for (std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (size_t lead = 115; lead <= 124; ++lead) {
      const std::string reason = std::string(lead, 'a') + ch + std::string(10, 'z');
      const std::string cut = close_payload_of(1000, reason).substr(2);
      SCOPED_TRACE(testing::Message() << "lead " << lead << " char of " << ch.size());
      EXPECT_TRUE(is_valid_utf8(cut));
      EXPECT_EQ(cut, reason.substr(0, cut.size()));
      const size_t expected = lead + ch.size() <= 123 ? 123 : lead;
      EXPECT_EQ(cut.size(), std::min<size_t>(expected, 123));
    }
  }
  // Only multi-byte characters: 41 three-byte characters make 123 bytes; 42 do not fit.
  std::string euros;
  for (int i = 0; i < 50; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(close_payload_of(1000, euros).size(), 2u + 123u);
  std::string smileys;
  for (int i = 0; i < 40; ++i) smileys += "\xF0\x9F\x98\x80";
  EXPECT_EQ(close_payload_of(1000, smileys).size(), 2u + 120u);
}

TEST(CloseFrame, EncodedPayloadDecodes) {
  std::string reason;
  for (int i = 0; i < 50; ++i) reason += "\xC3\xA9";
  const std::string payload = close_payload_of(1008, reason);
  Outcome got = decode_whole(frame(0x8, payload));
  ASSERT_EQ(got.events.size(), 1u);
  EXPECT_EQ(got.events[0], Event::close(1008, payload.substr(2)));
}

}  // namespace
}  // namespace capstan::ws::test
