// Server-to-client frame headers (RFC 6455 §5.2): never masked, minimal length encoding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "capstan/types.hpp"

namespace capstan::ws {

inline constexpr size_t kMaxHeaderSize = 10;  // server frames carry no masking key

// Writes the header for a frame of `payload_size` bytes into `out` (>= kMaxHeaderSize bytes)
// and returns its length.
inline size_t encode_frame_header(uint8_t* out, Opcode opcode, uint64_t payload_size,
                                  bool fin = true, bool rsv1 = false) noexcept {
  out[0] = static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<uint8_t>(opcode));
  if (payload_size < 126) {
    out[1] = static_cast<uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_size >> 8);
    out[3] = static_cast<uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(payload_size >> (56 - 8 * i));
  return 10;
}

inline constexpr size_t frame_header_size(uint64_t payload_size) noexcept {
  return payload_size < 126 ? 2 : payload_size <= 0xFFFF ? 4 : 10;
}

// Builds a close frame payload: the code in network order, then the reason (cut to fit the
// 125-byte control frame limit). Returns the payload length written to `out` (>= 125 bytes).
size_t encode_close_payload(uint8_t* out, uint16_t code, const char* reason, size_t reason_size) noexcept;

// RFC 6455 §7.4: codes a peer may send in a close frame.
bool is_valid_close_code(uint16_t code) noexcept;

}  // namespace capstan::ws
