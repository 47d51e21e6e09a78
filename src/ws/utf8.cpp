// Range-based UTF-8 validation after Unicode Table 3-7: each lead byte fixes how many
// continuation bytes follow and the range of the first of them, which is what excludes
// overlong forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4, F5..FF).
#include "ws/utf8.hpp"

#include <cstring>

namespace capstan::ws {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

}  // namespace

bool Utf8Validator::feed(const uint8_t* data, size_t size) noexcept {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  while (p < end) {
    if (pending_ == 0) {
      // ASCII dominates JSON traffic: skip it eight bytes at a time.
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        if (word & kHighBits) break;
        p += 8;
      }
      if (end - p < 8 && p - data + (end - p) >= 8) {
        // The tail of a message of 8 bytes or more: the last 8 bytes, overlapping what was
        // already checked, tell in one load whether the tail is all ASCII.
        uint64_t word;
        std::memcpy(&word, end - 8, 8);
        if (!(word & kHighBits)) break;
      }
      if (p == end) break;
      uint8_t b = *p++;
      if (b < 0x80) continue;
      if (b < 0xC2) return false;  // stray continuation byte or overlong 2-byte lead
      if (b < 0xE0) {
        pending_ = 1; lo_ = 0x80; hi_ = 0xBF;
      } else if (b < 0xF0) {
        pending_ = 2;
        lo_ = (b == 0xE0) ? 0xA0 : 0x80;  // E0 80..9F would be overlong
        hi_ = (b == 0xED) ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
      } else if (b < 0xF5) {
        pending_ = 3;
        lo_ = (b == 0xF0) ? 0x90 : 0x80;  // F0 80..8F would be overlong
        hi_ = (b == 0xF4) ? 0x8F : 0xBF;  // F4 90.. would exceed U+10FFFF
      } else {
        return false;
      }
      continue;
    }
    uint8_t b = *p++;
    if (b < lo_ || b > hi_) return false;
    --pending_;
    lo_ = 0x80;
    hi_ = 0xBF;
  }
  return true;
}

bool is_valid_utf8(std::string_view text) noexcept {
  Utf8Validator v;
  return v.feed(text) && v.complete();
}

}  // namespace capstan::ws
