// Close frame payloads and the status codes a peer may send (RFC 6455 §5.5.1, §7.4).
#include <cstring>

#include "ws/frame_encoder.hpp"

namespace capstan::ws {

bool is_valid_close_code(uint16_t code) noexcept {
  // 1004-1006 and 1015 must never be on the wire; 1012-1014 were registered with IANA after
  // the RFC; 1016-2999 are unassigned; 3000-4999 belong to libraries and applications.
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

size_t encode_close_payload(uint8_t* out, uint16_t code, const char* reason, size_t reason_size) noexcept {
  constexpr size_t kMaxReason = 123;  // 125-byte control payload minus the code
  if (reason_size > kMaxReason) {
    reason_size = kMaxReason;
    // Cut on a character boundary so the reason stays valid UTF-8.
    while (reason_size > 0 && (static_cast<uint8_t>(reason[reason_size]) & 0xC0) == 0x80) --reason_size;
  }
  out[0] = static_cast<uint8_t>(code >> 8);
  out[1] = static_cast<uint8_t>(code);
  if (reason_size) std::memcpy(out + 2, reason, reason_size);
  return 2 + reason_size;
}

}  // namespace capstan::ws
