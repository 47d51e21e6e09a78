// FrameDecoder against RFC 6455 §5 (framing) and §7.4 (close codes). Every expectation is
// checked with the input fed whole, byte by byte and in seeded random splits.
#include "ws/frame_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws_test_support.hpp"

namespace capstan::ws::test {
namespace {

using Status = DecodeResult::Status;

constexpr uint16_t kProtocolError = 1002;
constexpr uint16_t kInvalidPayload = 1007;
constexpr uint16_t kTooBig = 1009;

// Every split of `wire` must report exactly `events` and end with `status` / `code`. A clean
// run consumes everything; a stop (close frame) consumes up to the end of the stopping frame.
void expect_decodes(std::string_view wire, const std::vector<Event>& events, Status status = Status::ok,
                    uint16_t code = 0, DecodeLimits limits = {}, std::optional<size_t> consumed = std::nullopt) {
  for (const Split& split : all_splits(wire.size())) {
    SCOPED_TRACE("fed " + split.name);
    Outcome got = decode(wire, split.cuts, limits);
    EXPECT_EQ(got.events, events);
    EXPECT_STREQ(status_name(got.status), status_name(status));
    EXPECT_EQ(got.close_code, code);
    if (status == Status::ok) {
      EXPECT_EQ(got.consumed, wire.size());
    }
    if (consumed) {
      EXPECT_EQ(got.consumed, *consumed);
    }
  }
}

void expect_error(std::string_view wire, uint16_t code, const std::vector<Event>& before = {}, DecodeLimits limits = {}) {
  expect_decodes(wire, before, Status::error, code, limits);
}

// Fed byte by byte, the fault must be reported by the feed of byte `at` (0-based): as soon as
// the decoder has seen the byte that makes the input wrong, not later.
void expect_error_at_byte(std::string_view wire, uint16_t code, size_t at, DecodeLimits limits = {}) {
  Outcome got = decode(wire, byte_by_byte(wire.size()), limits);
  EXPECT_STREQ(status_name(got.status), "error");
  EXPECT_EQ(got.close_code, code);
  EXPECT_EQ(got.fed, at + 1) << "fault reported after " << got.fed << " bytes instead of " << at + 1;
}

std::string repeat(char c, size_t n) { return std::string(n, c); }

// A payload whose bytes vary with their position, so a wrong mask offset shows.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return s;
}

// ---- Basics ----------------------------------------------------------------------------------

TEST(FrameDecoder, RfcSampleMaskedHello) {
  // RFC 6455 §5.7: a single-frame masked text message containing "Hello".
  const std::string wire = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  EXPECT_EQ(wire, text_frame("Hello"));  // the frame builder agrees with the RFC
  expect_decodes(wire, {Event::text("Hello")});
}

TEST(FrameDecoder, RfcSampleFragmentedHello) {
  // RFC 6455 §5.7 "Hel" + "lo", here masked as a client must.
  expect_decodes(text_frame("Hel", false) + continuation("lo"), {Event::text("Hello")});
}

TEST(FrameDecoder, BinaryMessage) {
  const std::string payload("\x00\xff\x80\x01", 4);
  expect_decodes(binary_frame(payload), {Event::binary(payload)});
}

TEST(FrameDecoder, SeveralMessagesInOneFeed) {
  expect_decodes(text_frame("one") + binary_frame("two") + ping("p") + pong("q") + text_frame("three"),
                 {Event::text("one"), Event::binary("two"), Event::ping("p"), Event::pong("q"), Event::text("three")});
}

TEST(FrameDecoder, MaskingKeyOffsetSurvivesSplits) {
  FrameSpec spec{.opcode = 0x2, .payload = pattern(1000), .key = {0x01, 0x82, 0x43, 0xC4}};
  expect_decodes(build_frame(spec), {Event::binary(pattern(1000))});
}

// ---- Masking and reserved bits ---------------------------------------------------------------

TEST(FrameDecoder, UnmaskedClientFrameIsProtocolError) {
  expect_error(build_frame({.opcode = 0x1, .payload = "hi", .masked = false}), kProtocolError);
  expect_error(build_frame({.opcode = 0x9, .payload = "", .masked = false}), kProtocolError);
  expect_error(text_frame("ok") + build_frame({.opcode = 0x2, .payload = "x", .masked = false}), kProtocolError,
               {Event::text("ok")});
}

TEST(FrameDecoder, Rsv2AndRsv3AreAlwaysProtocolErrors) {
  for (bool allow_rsv1 : {false, true}) {
    for (uint8_t rsv : {kRsv2, kRsv3, uint8_t(kRsv2 | kRsv3), uint8_t(kRsv1 | kRsv2)}) {
      SCOPED_TRACE(testing::Message() << "rsv=" << int(rsv) << " allow_rsv1=" << allow_rsv1);
      expect_error(build_frame({.opcode = 0x1, .payload = "x", .rsv = rsv}), kProtocolError, {}, {.allow_rsv1 = allow_rsv1});
    }
  }
}

TEST(FrameDecoder, Rsv1WithoutNegotiationIsProtocolError) {
  expect_error(build_frame({.opcode = 0x1, .payload = "x", .rsv = kRsv1}), kProtocolError);
  expect_error(build_frame({.opcode = 0x2, .payload = "x", .rsv = kRsv1}), kProtocolError);
}

TEST(FrameDecoder, Rsv1WhenNegotiatedMarksTheMessageCompressed) {
  const DecodeLimits limits{.allow_rsv1 = true};
  // Compressed text is not UTF-8 until inflated, so it is not validated here.
  const std::string deflated("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
  expect_decodes(build_frame({.opcode = 0x1, .payload = deflated, .rsv = kRsv1}), {Event::text(deflated, true)},
                 Status::ok, 0, limits);
  // Fragmented: RSV1 on the first frame only; the flag covers the whole message.
  expect_decodes(build_frame({.opcode = 0x1, .payload = "\xf2\x48", .fin = false, .rsv = kRsv1}) + continuation("\xcd\xc9"),
                 {Event::text("\xf2\x48\xcd\xc9", true)}, Status::ok, 0, limits);
  // The next message without RSV1 is not compressed (and is validated again).
  expect_decodes(build_frame({.opcode = 0x2, .payload = "z", .rsv = kRsv1}) + text_frame("plain"),
                 {{Event::Kind::message, Opcode::binary, "z", true, 0}, Event::text("plain")}, Status::ok, 0, limits);
  expect_error(build_frame({.opcode = 0x1, .payload = "\xf2", .rsv = kRsv1}) + text_frame("\xff"), kInvalidPayload,
               {Event::text("\xf2", true)}, limits);
}

TEST(FrameDecoder, Rsv1OnlyOnTheFirstDataFrame) {
  const DecodeLimits limits{.allow_rsv1 = true};
  expect_error(build_frame({.opcode = 0x1, .payload = "a", .fin = false, .rsv = kRsv1}) +
                   build_frame({.opcode = 0x0, .payload = "b", .rsv = kRsv1}),
               kProtocolError, {}, limits);
  expect_error(build_frame({.opcode = 0x9, .payload = "p", .rsv = kRsv1}), kProtocolError, {}, limits);
  expect_error(build_frame({.opcode = 0x8, .payload = close_payload(1000), .rsv = kRsv1}), kProtocolError, {}, limits);
}

// ---- Opcodes and control frames --------------------------------------------------------------

class ReservedOpcode : public testing::TestWithParam<int> {};

TEST_P(ReservedOpcode, IsProtocolError) {
  const uint8_t op = static_cast<uint8_t>(GetParam());
  expect_error(frame(op, "x"), kProtocolError);
  expect_error(frame(op, ""), kProtocolError);
  // Also in the middle of a fragmented message.
  expect_error(text_frame("a", false) + frame(op, "x"), kProtocolError);
}

INSTANTIATE_TEST_SUITE_P(FrameDecoder, ReservedOpcode, testing::Values(0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF));

TEST(FrameDecoder, ControlFrameOf125BytesIsAccepted) {
  expect_decodes(ping(repeat('p', 125)) + pong(repeat('q', 125)), {Event::ping(repeat('p', 125)), Event::pong(repeat('q', 125))});
}

TEST(FrameDecoder, ControlFrameOver125BytesIsProtocolError) {
  for (uint8_t op : {0x8, 0x9, 0xA}) {
    SCOPED_TRACE(int(op));
    std::string payload = op == 0x8 ? close_payload(1000, repeat('r', 124)) : repeat('p', 126);
    expect_error(frame(op, payload), kProtocolError);
    expect_error(build_frame({.opcode = op, .payload = repeat('p', 70000)}), kProtocolError);
    // Announcing a small length in a longer encoding is still over the 7-bit control limit.
    expect_error(build_frame({.opcode = op, .payload = "", .length_form = LengthForm::bits16, .declared_length = 126}), kProtocolError);
  }
  // The fault is seen at the second header byte, before any payload.
  expect_error_at_byte(ping(repeat('p', 126)), kProtocolError, 1);
}

TEST(FrameDecoder, FragmentedControlFrameIsProtocolError) {
  expect_error(build_frame({.opcode = 0x9, .payload = "p", .fin = false}), kProtocolError);
  expect_error(build_frame({.opcode = 0xA, .payload = "p", .fin = false}), kProtocolError);
  expect_error(build_frame({.opcode = 0x8, .payload = close_payload(1000), .fin = false}), kProtocolError);
  expect_error(build_frame({.opcode = 0x9, .payload = "p", .fin = false}) + continuation("q"), kProtocolError);
}

TEST(FrameDecoder, ContinuationWithoutStartIsProtocolError) {
  expect_error(continuation("x"), kProtocolError);
  expect_error(continuation("x", false), kProtocolError);
  // After a complete message there is nothing to continue either.
  expect_error(text_frame("done") + continuation("more"), kProtocolError, {Event::text("done")});
  expect_error(text_frame("a", false) + continuation("b") + continuation("c"), kProtocolError, {Event::text("ab")});
}

TEST(FrameDecoder, NewDataFrameInsideFragmentedMessageIsProtocolError) {
  expect_error(text_frame("a", false) + binary_frame("b"), kProtocolError);
  expect_error(text_frame("a", false) + text_frame("b"), kProtocolError);
  expect_error(binary_frame("a", false) + continuation("b", false) + text_frame("c", false), kProtocolError);
}

TEST(FrameDecoder, ControlFramesInterleavedInFragmentedMessage) {
  expect_decodes(text_frame("Hel", false) + ping("p") + continuation("lo"), {Event::ping("p"), Event::text("Hello")});
  expect_decodes(binary_frame("1", false) + pong() + continuation("2", false) + ping("x") + ping("y") + continuation("3"),
                 {Event::pong(), Event::ping("x"), Event::ping("y"), Event::binary("123")});
  // A UTF-8 sequence split across fragments stays valid across an interleaved ping.
  expect_decodes(text_frame("\xE2\x82", false) + ping("mid") + continuation("\xAC"), {Event::ping("mid"), Event::text("\xE2\x82\xAC")});
}

TEST(FrameDecoder, CloseInsideFragmentedMessageStops) {
  const std::string close = close_frame(1001, "bye");
  const std::string wire = text_frame("par", false) + close + continuation("tial");
  expect_decodes(wire, {Event::close(1001, "bye")}, Status::stopped, 0, {}, wire.size() - continuation("tial").size());
}

// ---- Payload lengths -------------------------------------------------------------------------

class PayloadLength : public testing::TestWithParam<size_t> {};

TEST_P(PayloadLength, DeliveredIntact) {
  const std::string payload = pattern(GetParam());
  const std::string wire = binary_frame(payload);
  const size_t header = GetParam() < 126 ? 6 : GetParam() <= 0xFFFF ? 8 : 14;
  EXPECT_EQ(wire.size(), header + payload.size());
  EXPECT_EQ(decode_whole(wire).events, std::vector<Event>{Event::binary(payload)});
  // Splits are expensive on big payloads: one random split for those.
  Outcome got = decode(wire, random_cuts(wire.size(), 7, 4096));
  EXPECT_EQ(got.events, std::vector<Event>{Event::binary(payload)});
  if (GetParam() <= 300) expect_decodes(wire, {Event::binary(payload)});
}

INSTANTIATE_TEST_SUITE_P(FrameDecoder, PayloadLength,
                         testing::Values(0, 1, 125, 126, 127, 200, 65535, 65536, 70000));

TEST(FrameDecoder, NonMinimalLengthIsProtocolError) {
  for (uint64_t n : {0, 1, 125}) {
    SCOPED_TRACE(n);
    expect_error(build_frame({.opcode = 0x2, .payload = repeat('x', n), .length_form = LengthForm::bits16}), kProtocolError);
  }
  for (uint64_t n : {0, 125, 126, 65535}) {
    SCOPED_TRACE(n);
    expect_error(build_frame({.opcode = 0x2, .payload = repeat('x', n), .length_form = LengthForm::bits64}), kProtocolError);
  }
  // The longest lengths each form may carry are accepted.
  expect_decodes(build_frame({.opcode = 0x2, .payload = repeat('x', 126), .length_form = LengthForm::bits16}), {Event::binary(repeat('x', 126))});
  expect_decodes(build_frame({.opcode = 0x2, .payload = repeat('x', 65536), .length_form = LengthForm::bits64}) , {Event::binary(repeat('x', 65536))});
}

TEST(FrameDecoder, SixtyFourBitLengthWithMostSignificantBitIsProtocolError) {
  const DecodeLimits unlimited{.max_message_size = UINT64_MAX};
  for (uint64_t n : {uint64_t{1} << 63, UINT64_MAX, (uint64_t{1} << 63) + 70000}) {
    SCOPED_TRACE(n);
    const std::string wire = build_frame({.opcode = 0x2, .payload = "", .length_form = LengthForm::bits64, .declared_length = n});
    expect_error(wire, kProtocolError, {}, unlimited);
    expect_error(wire, kProtocolError);  // also with the default limit: 1002, not 1009
  }
  // 2^63 - 1 is a legal length (too big for the limit, so 1009).
  expect_error(build_frame({.opcode = 0x2, .payload = "", .declared_length = INT64_MAX}), kTooBig);
}

// ---- max_message_size (1009) -----------------------------------------------------------------

TEST(FrameDecoder, MessageAtTheLimitIsAccepted) {
  const DecodeLimits limits{.max_message_size = 100};
  expect_decodes(binary_frame(repeat('b', 100)), {Event::binary(repeat('b', 100))}, Status::ok, 0, limits);
  expect_decodes(text_frame(repeat('t', 60), false) + continuation(repeat('t', 40)), {Event::text(repeat('t', 100))}, Status::ok, 0, limits);
}

TEST(FrameDecoder, SingleFrameOverTheLimitIs1009AtTheHeader) {
  const DecodeLimits limits{.max_message_size = 100};
  const std::string wire = binary_frame(repeat('b', 101));
  expect_error(wire, kTooBig, {}, limits);
  // Reported when the header is complete (2 + 4 key bytes), before any payload.
  expect_error_at_byte(wire, kTooBig, 5, limits);
  const std::string wide = binary_frame(repeat('b', 300));  // 2 + 2 length + 4 key bytes
  expect_error_at_byte(wide, kTooBig, 7, limits);
  // A 64-bit length far beyond the limit, with no payload behind it.
  const std::string huge = build_frame({.opcode = 0x2, .payload = "", .declared_length = uint64_t{1} << 40});
  expect_error(huge, kTooBig);
  expect_error_at_byte(huge, kTooBig, huge.size() - 1);
}

TEST(FrameDecoder, ReassembledMessageOverTheLimitIs1009AtTheOffendingHeader) {
  const DecodeLimits limits{.max_message_size = 100};
  const std::string first = text_frame(repeat('a', 60), false);
  const std::string second = continuation(repeat('b', 41));
  expect_error(first + second, kTooBig, {}, limits);
  expect_error_at_byte(first + second, kTooBig, first.size() + 5, limits);
  // Many small fragments add up as well.
  std::string many = binary_frame(repeat('x', 30), false);
  for (int i = 0; i < 3; ++i) many += continuation(repeat('x', 30), false);
  expect_error(many, kTooBig, {}, limits);
  // Control frames interleaved do not count towards the message size.
  expect_decodes(text_frame(repeat('a', 50), false) + ping(repeat('p', 100)) + continuation(repeat('b', 50)),
                 {Event::ping(repeat('p', 100)), Event::text(repeat('a', 50) + repeat('b', 50))}, Status::ok, 0, limits);
}

TEST(FrameDecoder, SizeCountStartsAgainForEachMessage) {
  const DecodeLimits limits{.max_message_size = 100};
  expect_decodes(binary_frame(repeat('a', 80)) + text_frame(repeat('b', 50), false) + continuation(repeat('c', 50)) + binary_frame(repeat('d', 100)),
                 {Event::binary(repeat('a', 80)), Event::text(repeat('b', 50) + repeat('c', 50)), Event::binary(repeat('d', 100))},
                 Status::ok, 0, limits);
}

// ---- Zero-length frames and messages ---------------------------------------------------------

TEST(FrameDecoder, ZeroLengthFramesAndMessages) {
  expect_decodes(text_frame(""), {Event::text("")});
  expect_decodes(binary_frame(""), {Event::binary("")});
  expect_decodes(ping() + pong(), {Event::ping(), Event::pong()});
  expect_decodes(text_frame("", false) + continuation("", false) + continuation(""), {Event::text("")});
  expect_decodes(text_frame("", false) + continuation("ab", false) + continuation(""), {Event::text("ab")});
  expect_decodes(text_frame("ab", false) + continuation(""), {Event::text("ab")});
  expect_decodes(text_frame("") + text_frame("") + binary_frame("x"), {Event::text(""), Event::text(""), Event::binary("x")});
}

// ---- Close frames ----------------------------------------------------------------------------

TEST(FrameDecoder, EmptyCloseReportsNoStatus1005) {
  const std::string close = frame(0x8, "");
  expect_decodes(close, {Event::close(1005)}, Status::stopped, 0, {}, close.size());
}

TEST(FrameDecoder, CloseStopsDecodingAndLeavesTheRestUnconsumed) {
  const std::string before = text_frame("first");
  const std::string close = close_frame(1000, "done");
  expect_decodes(before + close + text_frame("after") + ping("x"), {Event::text("first"), Event::close(1000, "done")},
                 Status::stopped, 0, {}, before.size() + close.size());
}

TEST(FrameDecoder, OneByteCloseIsProtocolError) {
  expect_error(frame(0x8, "\x03"), kProtocolError);
}

TEST(FrameDecoder, EveryValidCloseCodeIsAccepted) {
  std::vector<uint16_t> valid = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014};
  for (uint32_t c = 3000; c <= 4999; ++c) valid.push_back(static_cast<uint16_t>(c));
  for (uint16_t code : valid) {
    SCOPED_TRACE(code);
    EXPECT_TRUE(is_valid_close_code(code));
    Outcome got = decode_whole(close_frame(code, "why"));
    EXPECT_EQ(got.events, std::vector<Event>{Event::close(code, "why")});
    EXPECT_STREQ(status_name(got.status), "stopped");
  }
  expect_decodes(close_frame(1000), {Event::close(1000)}, Status::stopped);
  expect_decodes(close_frame(4999, "bye"), {Event::close(4999, "bye")}, Status::stopped);
}

class InvalidCloseCode : public testing::TestWithParam<int> {};

TEST_P(InvalidCloseCode, IsProtocolError) {
  const auto code = static_cast<uint16_t>(GetParam());
  EXPECT_FALSE(is_valid_close_code(code));
  expect_error(close_frame(code), kProtocolError);
  expect_error(close_frame(code, "reason"), kProtocolError);
}

INSTANTIATE_TEST_SUITE_P(FrameDecoder, InvalidCloseCode,
                         testing::Values(0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535));

TEST(FrameDecoder, CloseReasonMustBeUtf8) {
  expect_decodes(close_frame(1000, "\xC3\xA9t\xC3\xA9"), {Event::close(1000, "\xC3\xA9t\xC3\xA9")}, Status::stopped);
  expect_error(close_frame(1000, "bad \xFF"), kInvalidPayload);
  expect_error(close_frame(1000, "\xED\xA0\x80"), kInvalidPayload);
  expect_error(close_frame(1000, "cut \xE2\x82"), kInvalidPayload);  // ends mid-sequence
}

TEST(FrameDecoder, CloseAtMaximumControlSize) {
  const std::string reason = repeat('r', 123);
  expect_decodes(close_frame(1000, reason), {Event::close(1000, reason)}, Status::stopped);
}

// ---- UTF-8 in text messages (1007) -----------------------------------------------------------

TEST(FrameDecoder, InvalidUtf8InTextIs1007) {
  for (std::string bad : {"\xFF", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\x80", "\xE0\x80\x80"}) {
    SCOPED_TRACE(testing::PrintToString(bad));
    expect_error(text_frame(bad), kInvalidPayload);
    expect_error(text_frame("ok", false) + continuation(bad), kInvalidPayload);
  }
  // Binary is not text: any bytes go.
  expect_decodes(binary_frame("\xFF\xC0\x80"), {Event::binary("\xFF\xC0\x80")});
}

TEST(FrameDecoder, TextEndingInsideASequenceIs1007) {
  expect_error(text_frame("\xE2\x82"), kInvalidPayload);
  expect_error(text_frame("ab\xF0\x9F\x98"), kInvalidPayload);
  expect_error(text_frame("\xC3", false) + continuation(""), kInvalidPayload);
  // Split across fragments but complete at the end is fine.
  expect_decodes(text_frame("\xF0\x9F", false) + continuation("\x98", false) + continuation("\x80"), {Event::text("\xF0\x9F\x98\x80")});
}

TEST(FrameDecoder, InvalidUtf8FailsFastInsideAFrame) {
  // The bad byte is the 3rd of a 1000-byte text frame: the fault is due at that byte, while
  // most of the frame has not arrived.
  std::string payload = "ab\xFF" + repeat('c', 997);
  const std::string wire = text_frame(payload);
  expect_error_at_byte(wire, kInvalidPayload, 8 + 2);
  // Fed as: header + first 10 payload bytes only. The message is incomplete, the verdict is in.
  FrameDecoder decoder;
  Recorder recorder;
  std::vector<uint8_t> head(wire.begin(), wire.begin() + 8 + 10);
  DecodeResult r = decoder.feed(head.data(), head.size(), {}, recorder);
  EXPECT_STREQ(status_name(r.status), "error");
  EXPECT_EQ(close_code_of(r.error), kInvalidPayload);
  EXPECT_TRUE(recorder.events.empty());
}

TEST(FrameDecoder, InvalidUtf8FailsFastInAnEarlyFragment) {
  // The first fragment already holds an overlong sequence; the rest of the message never
  // arrives, and need not.
  const std::string first = text_frame("hello \xC0\xAF", false);
  Outcome got = decode(first, whole(first.size()));
  EXPECT_STREQ(status_name(got.status), "error");
  EXPECT_EQ(got.close_code, kInvalidPayload);
  expect_error_at_byte(first, kInvalidPayload, 6 + 6);
  // A surrogate whose first byte ends one fragment and second byte starts the next.
  const std::string split = text_frame("x\xED", false) + continuation("\xA0\x80", false);
  expect_error(split, kInvalidPayload);
  expect_error_at_byte(split, kInvalidPayload, text_frame("x\xED", false).size() + 6);
}

// ---- Zero copy and memory --------------------------------------------------------------------

TEST(FrameDecoder, MessageInsideOneFeedIsAViewIntoTheFedBuffer) {
  const std::string wire = text_frame("first message") + binary_frame(pattern(300)) + text_frame("") + text_frame(pattern(70000));
  FrameDecoder decoder;
  Recorder recorder;
  std::vector<uint8_t> buf(wire.begin(), wire.end());
  recorder.chunk_begin = reinterpret_cast<const char*>(buf.data());
  recorder.chunk_end = recorder.chunk_begin + buf.size();
  DecodeResult r = decoder.feed(buf.data(), buf.size(), {}, recorder);
  EXPECT_STREQ(status_name(r.status), "ok");
  ASSERT_EQ(recorder.events.size(), 4u);
  EXPECT_EQ(recorder.events[3].data, pattern(70000));
  EXPECT_EQ(recorder.message_in_chunk, std::vector<bool>(4, true));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoder, MessageSpanningFeedsIsAssembledAndReleased) {
  const std::string wire = text_frame(pattern(5000));
  FrameDecoder decoder;
  Recorder recorder;
  std::vector<uint8_t> a(wire.begin(), wire.begin() + 2000), b(wire.begin() + 2000, wire.end());
  EXPECT_FALSE(decoder.mid_message());
  EXPECT_STREQ(status_name(decoder.feed(a.data(), a.size(), {}, recorder).status), "ok");
  EXPECT_TRUE(decoder.mid_message());
  EXPECT_TRUE(recorder.events.empty());
  EXPECT_STREQ(status_name(decoder.feed(b.data(), b.size(), {}, recorder).status), "ok");
  EXPECT_EQ(recorder.events, std::vector<Event>{Event::text(pattern(5000))});
  EXPECT_FALSE(decoder.mid_message());
  EXPECT_EQ(decoder.buffered_bytes(), 0u) << "an idle decoder owns no heap memory";
}

TEST(FrameDecoder, MidMessageWhileHeaderOrFragmentsArePending) {
  FrameDecoder decoder;
  Recorder recorder;
  std::string wire = text_frame("ab", false);
  std::vector<uint8_t> one_byte(wire.begin(), wire.begin() + 1);
  decoder.feed(one_byte.data(), 1, {}, recorder);
  EXPECT_TRUE(decoder.mid_message()) << "half a header is buffered";
  std::vector<uint8_t> rest(wire.begin() + 1, wire.end());
  decoder.feed(rest.data(), rest.size(), {}, recorder);
  EXPECT_TRUE(decoder.mid_message()) << "a fragmented message is in progress";
  std::string end = continuation("c");
  std::vector<uint8_t> last(end.begin(), end.end());
  decoder.feed(last.data(), last.size(), {}, recorder);
  EXPECT_FALSE(decoder.mid_message());
  EXPECT_EQ(recorder.events, std::vector<Event>{Event::text("abc")});
}

// ---- Stopping --------------------------------------------------------------------------------

TEST(FrameDecoder, HandlerReturningFalseStopsAfterThatEvent) {
  const std::string a = text_frame("a"), b = ping("b"), c = binary_frame("c");
  std::string wire = a + b + c;
  std::vector<uint8_t> buf(wire.begin(), wire.end());
  FrameDecoder decoder;
  Recorder recorder{.stop_after = 1};
  DecodeResult r = decoder.feed(buf.data(), buf.size(), {}, recorder);
  EXPECT_STREQ(status_name(r.status), "stopped");
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(recorder.events, std::vector<Event>{Event::text("a")});
  // The rest stays unconsumed; feeding it resumes where the decoder stopped.
  recorder.stop_after = 2;
  r = decoder.feed(buf.data() + a.size(), buf.size() - a.size(), {}, recorder);
  EXPECT_STREQ(status_name(r.status), "stopped");
  EXPECT_EQ(r.consumed, b.size());
  recorder.stop_after = -1;
  r = decoder.feed(buf.data() + a.size() + b.size(), c.size(), {}, recorder);
  EXPECT_STREQ(status_name(r.status), "ok");
  EXPECT_EQ(recorder.events, (std::vector<Event>{Event::text("a"), Event::ping("b"), Event::binary("c")}));
}

TEST(FrameDecoder, StopOnEveryKindOfEventUnderAllSplits) {
  const std::string wire = text_frame("m") + ping("p") + pong("q") + binary_frame("n", false) + continuation("o");
  const std::vector<Event> all = {Event::text("m"), Event::ping("p"), Event::pong("q"), Event::binary("no")};
  for (int stop = 1; stop <= 4; ++stop) {
    for (const Split& split : all_splits(wire.size())) {
      SCOPED_TRACE(split.name + ", stop after event " + std::to_string(stop));
      Outcome got = decode(wire, split.cuts, {}, Recorder{.stop_after = stop});
      EXPECT_STREQ(status_name(got.status), "stopped");
      EXPECT_EQ(got.events, std::vector<Event>(all.begin(), all.begin() + stop));
    }
  }
}

TEST(FrameDecoder, FailedDecoderRefusesMoreInput) {
  FrameDecoder decoder;
  Recorder recorder;
  std::string bad = continuation("x");
  std::vector<uint8_t> buf(bad.begin(), bad.end());
  EXPECT_STREQ(status_name(decoder.feed(buf.data(), buf.size(), {}, recorder).status), "error");
  std::string good = text_frame("hi");
  std::vector<uint8_t> next(good.begin(), good.end());
  DecodeResult r = decoder.feed(next.data(), next.size(), {}, recorder);
  EXPECT_STREQ(status_name(r.status), "error");
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(recorder.events.empty());
}

// ---- A longer mixed conversation -------------------------------------------------------------

TEST(FrameDecoder, MixedConversationUnderAllSplits) {
  const std::string wire = text_frame("κόσμε") + ping("") + binary_frame(pattern(126), false) + pong("pong") +
                           continuation(pattern(200), false) + continuation("", false) + continuation("end") +
                           build_frame({.opcode = 0x1, .payload = pattern(65536), .key = {0, 0, 0, 0}}) +
                           text_frame("\xF0\x9F\x98\x80 \xE2\x82\xAC") + close_frame(1000, "bye") + text_frame("ignored");
  expect_decodes(wire,
                 {Event::text("κόσμε"), Event::ping(), Event::pong("pong"), Event::binary(pattern(126) + pattern(200) + "end"),
                  Event::text(pattern(65536)), Event::text("\xF0\x9F\x98\x80 \xE2\x82\xAC"), Event::close(1000, "bye")},
                 Status::stopped, 0, {}, wire.size() - text_frame("ignored").size());
}

}  // namespace
}  // namespace capstan::ws::test
