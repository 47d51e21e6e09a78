// Incremental UTF-8 validation for text messages (RFC 6455 §8.1, Unicode Table 3-7).
//
// The validator keeps its state between calls so a text message split into fragments, or
// across reads, is checked chunk by chunk: it fails at the first byte that cannot start or
// continue a well-formed sequence, without waiting for the end of the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace capstan::ws {

class Utf8Validator {
 public:
  // Checks the next chunk; false as soon as a byte makes the text ill-formed.
  bool feed(const uint8_t* data, size_t size) noexcept;
  bool feed(std::string_view text) noexcept {
    return feed(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  // True when the text so far ends on a character boundary.
  bool complete() const noexcept { return pending_ == 0; }
  void reset() noexcept { pending_ = 0; lo_ = 0x80; hi_ = 0xBF; }

 private:
  uint8_t pending_ = 0;  // continuation bytes still expected
  uint8_t lo_ = 0x80;    // allowed range of the next continuation byte
  uint8_t hi_ = 0xBF;
};

bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace capstan::ws
