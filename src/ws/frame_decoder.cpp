// Header checks of the frame decoder: every rule of RFC 6455 §5.2–5.5 that a header alone
// can break. The payload loop lives in the header, as a template over the handler.
#include "ws/frame_decoder.hpp"

namespace capstan::ws {

namespace {

bool is_known_opcode(uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

}  // namespace

WsError FrameDecoder::check_start(uint8_t b0, uint8_t b1, const DecodeLimits& limits) const noexcept {
  const uint8_t op = b0 & 0x0F;
  const bool fin = b0 & 0x80;
  const bool control = op & 0x8;
  if (b0 & 0x30) return WsError::reserved_bits;
  if (b0 & 0x40) {
    // RFC 7692 §6: RSV1 only on the first frame of a compressed data message.
    if (!limits.allow_rsv1) return WsError::reserved_bits;
    if (control || op == 0) return WsError::rsv1_not_allowed;
  }
  if (!is_known_opcode(op)) return WsError::reserved_opcode;
  if (control) {
    if (!fin) return WsError::fragmented_control;
    if ((b1 & 0x7F) > 125) return WsError::control_too_long;
  } else if (op == 0) {
    if (message_opcode_ == 0) return WsError::orphan_continuation;
  } else if (message_opcode_ != 0) {
    return WsError::data_inside_fragmented;
  }
  if (!(b1 & 0x80)) return WsError::unmasked_frame;
  return {};
}

WsError FrameDecoder::begin_frame(const uint8_t* h, const DecodeLimits& limits) noexcept {
  fin_ = h[0] & 0x80;
  opcode_ = static_cast<Opcode>(h[0] & 0x0F);
  uint64_t length = h[1] & 0x7F;
  const uint8_t* p = h + 2;
  if (length == 126) {
    length = (uint64_t{p[0]} << 8) | p[1];
    p += 2;
    if (length < 126) return WsError::length_not_minimal;
  } else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | p[i];
    p += 8;
    if (length >> 63) return WsError::length_msb_set;
    if (length <= 0xFFFF) return WsError::length_not_minimal;
  }
  for (int i = 0; i < 4; ++i) mask_[i] = p[i];
  mask_offset_ = 0;

  if (!(static_cast<uint8_t>(opcode_) & 0x8)) {
    if (opcode_ != Opcode::continuation) {
      message_opcode_ = static_cast<uint8_t>(opcode_);
      compressed_ = h[0] & 0x40;
      message_size_ = 0;
      utf8_.reset();
    }
    // Checked on the announced length, before any payload is buffered (no 100 MB waits).
    if (length > limits.max_message_size || message_size_ + length > limits.max_message_size)
      return WsError::message_too_big;
    message_size_ += length;
  }
  remaining_ = length;
  in_frame_ = true;
  return {};
}

}  // namespace capstan::ws
