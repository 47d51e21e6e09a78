// Utf8Validator: known good and bad sequences (Unicode Table 3-7, Markus Kuhn's stress test),
// incremental feeding at every split, fail-fast at the bad byte, and random strings checked
// against an independent reference built from the code point definition of UTF-8.
#include "ws/utf8.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace capstan::ws {
namespace {

// ---- An independent reference -----------------------------------------------------------------

std::string encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

bool is_scalar_value(uint32_t cp) { return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF); }

// How many bytes a sequence starting with `b0` has, by its bit pattern; 0 for no sequence.
size_t sequence_length(uint8_t b0) {
  return b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
}

constexpr uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};  // below: overlong

// A complete sequence decoded the textbook way: bit patterns, then the code point's value.
bool is_encoding_of_scalar(std::string_view seq) {
  const auto b0 = static_cast<uint8_t>(seq[0]);
  const size_t len = sequence_length(b0);
  if (len == 0 || len != seq.size()) return false;
  uint32_t cp = len == 1 ? b0 : b0 & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(seq[i]);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  return cp >= kMinOfLength[len] && is_scalar_value(cp);
}

// True when `prefix` (shorter than its sequence) can still be completed into the encoding of
// a scalar value: the code points it could encode form an interval, which must reach a
// non-overlong, non-surrogate value no greater than U+10FFFF.
bool is_viable_prefix(std::string_view prefix) {
  const size_t len = sequence_length(static_cast<uint8_t>(prefix[0]));
  if (len == 0 || prefix.size() >= len) return false;
  uint32_t bits = static_cast<uint8_t>(prefix[0]) & (0x7F >> len);
  for (size_t i = 1; i < prefix.size(); ++i) {
    const auto b = static_cast<uint8_t>(prefix[i]);
    if ((b & 0xC0) != 0x80) return false;
    bits = (bits << 6) | (b & 0x3F);
  }
  const unsigned missing = 6 * static_cast<unsigned>(len - prefix.size());
  const uint32_t lowest = std::max(bits << missing, kMinOfLength[len]);
  const uint32_t highest = std::min(((bits + 1) << missing) - 1, uint32_t{0x10FFFF});
  if (lowest > highest) return false;
  return !(lowest >= 0xD800 && highest <= 0xDFFF);  // only surrogates left
}

struct Verdict {
  std::optional<size_t> bad_byte;  // index of the first byte after which no valid text is possible
  bool complete = true;            // (when no bad byte) ends on a character boundary
};

Verdict reference(std::string_view text) {
  std::string pending;
  for (size_t i = 0; i < text.size(); ++i) {
    pending += text[i];
    if (is_encoding_of_scalar(pending)) pending.clear();
    else if (!is_viable_prefix(pending)) return {i, false};
  }
  return {std::nullopt, pending.empty()};
}

// ---- Driving the validator -----------------------------------------------------------------

// Feeds byte by byte; returns the verdict in the same terms as the reference.
Verdict byte_by_byte(std::string_view text) {
  Utf8Validator v;
  for (size_t i = 0; i < text.size(); ++i)
    if (!v.feed(text.substr(i, 1))) return {i, false};
  return {std::nullopt, v.complete()};
}

bool whole_verdict(std::string_view text) {
  Utf8Validator v;
  return v.feed(text) && v.complete();
}

// Fed in two pieces cut at `cut`, and in three at (cut, cut2): same verdict as whole.
void expect_same_verdict_at_every_split(std::string_view text, bool valid) {
  EXPECT_EQ(is_valid_utf8(text), valid);
  EXPECT_EQ(whole_verdict(text), valid);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    for (size_t cut2 = cut; cut2 <= text.size(); ++cut2) {
      Utf8Validator v;
      bool ok = v.feed(text.substr(0, cut)) && v.feed(text.substr(cut, cut2 - cut)) && v.feed(text.substr(cut2)) && v.complete();
      EXPECT_EQ(ok, valid) << "split at " << cut << " and " << cut2;
    }
  }
}

struct Case {
  const char* name;
  std::string bytes;
  std::optional<size_t> bad_byte;  // nullopt: no byte is wrong by itself
  bool complete;                   // for bad_byte == nullopt: ends on a boundary
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::string S(const char* s) { return s; }

// ---- Known good --------------------------------------------------------------------------------

const Case kGood[] = {
    {"empty", "", std::nullopt, true},
    {"ascii", "Hello, world! {\"json\": [1, 2, 3]}", std::nullopt, true},
    {"all ascii", [] { std::string s; for (int c = 0; c < 128; ++c) s += static_cast<char>(c); return s; }(), std::nullopt, true},
    {"greek kosme", "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", std::nullopt, true},
    {"two-byte U+0080", "\xC2\x80", std::nullopt, true},
    {"two-byte U+07FF", "\xDF\xBF", std::nullopt, true},
    {"three-byte U+0800", "\xE0\xA0\x80", std::nullopt, true},
    {"three-byte U+D7FF", "\xED\x9F\xBF", std::nullopt, true},
    {"three-byte U+E000", "\xEE\x80\x80", std::nullopt, true},
    {"three-byte U+FFFD", "\xEF\xBF\xBD", std::nullopt, true},
    {"noncharacter U+FFFE", "\xEF\xBF\xBE", std::nullopt, true},
    {"noncharacter U+FFFF", "\xEF\xBF\xBF", std::nullopt, true},
    {"four-byte U+10000", "\xF0\x90\x80\x80", std::nullopt, true},
    {"four-byte U+1F600", "\xF0\x9F\x98\x80", std::nullopt, true},
    {"four-byte U+FFFFF", "\xF3\xBF\xBF\xBF", std::nullopt, true},
    {"four-byte U+100000", "\xF4\x80\x80\x80", std::nullopt, true},
    {"four-byte U+10FFFF", "\xF4\x8F\xBF\xBF", std::nullopt, true},
    {"NUL inside", S("a") + '\0' + "b", std::nullopt, true},
    {"mixed", "a\xC3\xA9z\xE2\x82\xAC!\xF0\x9F\x98\x80.", std::nullopt, true},
};

// ---- Known bad -----------------------------------------------------------------------------------

const Case kBad[] = {
    // Overlong forms (Kuhn 4.1, 4.2, 4.3).
    {"overlong NUL C0 80", "\xC0\x80", 0, false},
    {"overlong slash C0 AF", "\xC0\xAF", 0, false},
    {"overlong C1 BF", "\xC1\xBF", 0, false},
    {"overlong E0 80 80", "\xE0\x80\x80", 1, false},
    {"overlong slash E0 80 AF", "\xE0\x80\xAF", 1, false},
    {"max overlong E0 9F BF", "\xE0\x9F\xBF", 1, false},
    {"overlong F0 80 80 80", "\xF0\x80\x80\x80", 1, false},
    {"overlong slash F0 80 80 AF", "\xF0\x80\x80\xAF", 1, false},
    {"max overlong F0 8F BF BF", "\xF0\x8F\xBF\xBF", 1, false},
    {"five-byte overlong F8 80 80 80 AF", "\xF8\x80\x80\x80\xAF", 0, false},
    {"six-byte overlong FC 80 80 80 80 AF", "\xFC\x80\x80\x80\x80\xAF", 0, false},
    // Surrogates (Kuhn 5.1, 5.2).
    {"surrogate U+D800", "\xED\xA0\x80", 1, false},
    {"surrogate U+DB7F", "\xED\xAD\xBF", 1, false},
    {"surrogate U+DC00", "\xED\xB0\x80", 1, false},
    {"surrogate U+DFFF", "\xED\xBF\xBF", 1, false},
    {"surrogate pair", "\xED\xA0\x80\xED\xB0\x80", 1, false},
    // Above U+10FFFF and impossible lead bytes (Kuhn 3.5).
    {"U+110000", "\xF4\x90\x80\x80", 1, false},
    {"F4 BF BF BF", "\xF4\xBF\xBF\xBF", 1, false},
    {"lead F5", "\xF5\x80\x80\x80", 0, false},
    {"lead F7", "\xF7\xBF\xBF\xBF", 0, false},
    {"lead F8", "\xF8", 0, false},
    {"lead FE", "\xFE", 0, false},
    {"lead FF", "\xFF", 0, false},
    {"FE FE FF FF", "\xFE\xFE\xFF\xFF", 0, false},
    // Lone continuation bytes (Kuhn 3.1).
    {"first continuation 80", "\x80", 0, false},
    {"last continuation BF", "\xBF", 0, false},
    {"continuation after ascii", "abc\x80", 3, false},
    {"two continuations", "\x80\xBF", 0, false},
    {"continuation after complete char", "\xC3\xA9\xA9", 2, false},
    {"extra continuation after 4-byte", "\xF0\x9F\x98\x80\x80", 4, false},
    // Lonely start characters (Kuhn 3.2): a lead followed by a space.
    {"lonely C0", "\xC0 ", 0, false},
    {"lonely C2", "\xC2 ", 1, false},
    {"lonely DF", "\xDF ", 1, false},
    {"lonely E0", "\xE0 ", 1, false},
    {"lonely EF", "\xEF ", 1, false},
    {"lonely F0", "\xF0 ", 1, false},
    {"lonely F4", "\xF4 ", 1, false},
    {"three-byte missing last then ascii", "\xE2\x82z", 2, false},
    {"four-byte missing last then lead", "\xF0\x9F\x98\xF0\x9F\x98\x80", 3, false},
    {"bad byte after long ascii run", "0123456789abcdefghij\xFF", 20, false},
    {"bad byte deep in ascii words", "0123456789abcdef\x80" "0123456789abcdef", 16, false},
};

// Truncated at the end (Kuhn 3.3, 3.4): no byte is wrong, but the text is not complete.
const Case kTruncated[] = {
    {"C2 at end", "\xC2", std::nullopt, false},
    {"DF at end", "abc\xDF", std::nullopt, false},
    {"E0 A0 at end", "\xE0\xA0", std::nullopt, false},
    {"E2 82 at end", "x\xE2\x82", std::nullopt, false},
    {"ED 9F at end", "\xED\x9F", std::nullopt, false},
    {"F0 90 80 at end", "\xF0\x90\x80", std::nullopt, false},
    {"F4 8F BF at end", "\xF4\x8F\xBF", std::nullopt, false},
    {"F1 at end", "\xF1", std::nullopt, false},
    {"complete then E1 at end", "\xC3\xA9\xE1", std::nullopt, false},
};

class Utf8Case : public testing::TestWithParam<Case> {};

TEST_P(Utf8Case, VerdictFailFastAndSplits) {
  const Case& c = GetParam();
  const bool valid = !c.bad_byte && c.complete;
  // The reference agrees with the table (guards the table itself).
  const Verdict ref = reference(c.bytes);
  EXPECT_EQ(ref.bad_byte, c.bad_byte) << "table disagrees with the reference";
  EXPECT_EQ(ref.complete, c.complete) << "table disagrees with the reference";
  // Byte by byte: feed fails exactly at the bad byte, or complete() tells truncation.
  const Verdict got = byte_by_byte(c.bytes);
  EXPECT_EQ(got.bad_byte, c.bad_byte);
  EXPECT_EQ(got.complete, c.complete);
  expect_same_verdict_at_every_split(c.bytes, valid);
}

INSTANTIATE_TEST_SUITE_P(Good, Utf8Case, testing::ValuesIn(kGood));
INSTANTIATE_TEST_SUITE_P(Bad, Utf8Case, testing::ValuesIn(kBad));
INSTANTIATE_TEST_SUITE_P(Truncated, Utf8Case, testing::ValuesIn(kTruncated));

TEST(Utf8, FeedFailsAtTheChunkHoldingTheBadByte) {
  // Three chunks; the bad byte is in the second. The third is never needed.
  Utf8Validator v;
  EXPECT_TRUE(v.feed("valid start \xE2\x82"));
  EXPECT_FALSE(v.feed("\xAC then \xC0\x80 overlong"));
  Utf8Validator w;
  EXPECT_TRUE(w.feed("\xF0\x9F"));
  EXPECT_FALSE(w.feed("\x28"));  // not a continuation
}

TEST(Utf8, ResetForgetsAPendingSequence) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xE2\x82"));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
  EXPECT_FALSE(v.feed("\xAC")) << "after reset a continuation byte is stray";
  Utf8Validator w;
  EXPECT_TRUE(w.feed("\xED"));
  w.reset();
  EXPECT_TRUE(w.feed("\xE0\xA0\x80")) << "reset must also restore the continuation range";
}

TEST(Utf8, EveryScalarValueIsValidAndEverySurrogateInvalid) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string e = encode(cp);
    if (is_valid_utf8(e) != is_scalar_value(cp)) {
      ADD_FAILURE() << "U+" << std::hex << cp;
      break;
    }
  }
}

TEST(Utf8, EveryTwoByteStringMatchesTheReference) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s = {static_cast<char>(a), static_cast<char>(b)};
      const Verdict ref = reference(s), got = byte_by_byte(s);
      ASSERT_EQ(got.bad_byte, ref.bad_byte) << std::hex << a << " " << b;
      ASSERT_EQ(got.complete, ref.complete) << std::hex << a << " " << b;
      ASSERT_EQ(is_valid_utf8(s), !ref.bad_byte && ref.complete) << std::hex << a << " " << b;
    }
  }
}

TEST(Utf8, MultiByteCharacterAtEveryWordOffset) {
  // The ASCII fast path reads 8 bytes at a time; put a character and a fault at every offset.
  for (size_t prefix = 0; prefix < 24; ++prefix) {
    for (const char* ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
      const std::string good = std::string(prefix, 'a') + ch + std::string(17, 'b');
      EXPECT_TRUE(is_valid_utf8(good)) << prefix;
      const std::string bad = std::string(prefix, 'a') + ch + std::string(5, 'b') + "\xBF" + std::string(12, 'c');
      Utf8Validator v;
      EXPECT_FALSE(v.feed(bad)) << prefix;
      EXPECT_EQ(byte_by_byte(bad).bad_byte, prefix + std::string_view(ch).size() + 5);
    }
  }
}

TEST(Utf8, RandomStringsMatchTheReference) {
  std::mt19937 rng(20240601);
  auto pick = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const uint32_t parts = pick(0, 12);
    for (uint32_t p = 0; p < parts; ++p) {
      switch (pick(0, 5)) {
        case 0: s += static_cast<char>(pick(0x20, 0x7E)); break;
        case 1: s += std::string(pick(1, 20), 'x'); break;
        case 2: {  // a scalar value (possibly a surrogate, then it is bad)
          uint32_t cp = pick(0, 3) == 0 ? pick(0xD700, 0xE100) : pick(0x80, 0x10FFFF);
          s += encode(cp);
          break;
        }
        case 3: {  // a truncated character
          std::string e = encode(pick(0x80, 0x10FFFF));
          s += e.substr(0, pick(1, static_cast<uint32_t>(e.size()) - 1));
          break;
        }
        case 4: s += static_cast<char>(pick(0x80, 0xFF)); break;
        default: s += encode(pick(0x110000, 0x1FFFFF)); break;  // beyond Unicode
      }
    }
    const Verdict ref = reference(s), got = byte_by_byte(s);
    ASSERT_EQ(got.bad_byte, ref.bad_byte) << testing::PrintToString(s);
    ASSERT_EQ(got.complete, ref.complete) << testing::PrintToString(s);
    ASSERT_EQ(whole_verdict(s), !ref.bad_byte && ref.complete) << testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace capstan::ws
