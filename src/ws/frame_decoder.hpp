// The RFC 6455 receive side as a pure state machine: bytes in, events out, no I/O.
//
// `feed` takes whatever a read returned (any split, down to one byte), unmasks payload in
// place and reports complete messages and control frames to a handler. A message that lies
// whole inside the fed bytes is handed over as a view into them (no copy); only a message
// that spans reads or fragments is assembled in a buffer the decoder owns while it exists.
// An idle decoder owns no heap memory.
//
// Faults are reported as a WsError, whose close code (close_code_of) is the one RFC 6455
// §7.4.1 asks for: 1002 framing, 1007 bad UTF-8 (at the first bad byte, even mid-fragment),
// 1009 over `max_message_size`.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "capstan/error.hpp"
#include "capstan/types.hpp"
#include "ws/frame_encoder.hpp"
#include "ws/mask.hpp"
#include "ws/utf8.hpp"

namespace capstan::ws {

struct DecodeLimits {
  uint64_t max_message_size = 1 << 20;
  bool allow_rsv1 = false;  // permessage-deflate negotiated: RSV1 marks a compressed message
};

struct DecodeResult {
  enum class Status : uint8_t {
    ok,       // every byte consumed; feed more when it arrives
    stopped,  // the handler asked to stop (close frame seen, or the connection is closing)
    error,    // protocol fault: `error`, a WsError, says which and the close code
  };
  Status status = Status::ok;
  WsError error{};  // a std::error_code enum: close_code_of(error), describe(error)
  size_t consumed = 0;
};

// What the decoder reports. Each returns false to stop decoding (the rest stays unconsumed).
//   bool on_message(Opcode op, std::string_view payload, bool compressed);
//   bool on_ping(std::string_view payload);
//   bool on_pong(std::string_view payload);
//   bool on_close(uint16_t code, std::string_view reason);   // code 1005 when none was sent
template <class Handler>
concept DecodeHandler = requires(Handler h, std::string_view s, Opcode op, uint16_t code) {
  { h.on_message(op, s, true) } -> std::same_as<bool>;
  { h.on_ping(s) } -> std::same_as<bool>;
  { h.on_pong(s) } -> std::same_as<bool>;
  { h.on_close(code, s) } -> std::same_as<bool>;
};

class FrameDecoder {
 public:
  template <DecodeHandler Handler>
  DecodeResult feed(uint8_t* data, size_t size, const DecodeLimits& limits, Handler& handler);

  // True while a partial frame or message is buffered (the connection is mid-message).
  bool mid_message() const noexcept { return in_frame_ || header_size_ || message_opcode_; }
  size_t buffered_bytes() const noexcept { return message_ ? message_->capacity() : 0; }

 private:
  static constexpr size_t kMaxHeader = 14;
  static constexpr uint64_t kReserveCap = 64 * 1024;

  DecodeResult fail(WsError error, size_t consumed) noexcept {
    failed_ = true;
    return {DecodeResult::Status::error, error, consumed};
  }
  // Checks the first two header bytes; the fault, or none.
  WsError check_start(uint8_t b0, uint8_t b1, const DecodeLimits& limits) const noexcept;
  static size_t header_size(uint8_t b1) noexcept {
    size_t len7 = b1 & 0x7F;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
  }
  // Parses a complete header; the fault, or none.
  WsError begin_frame(const uint8_t* header, const DecodeLimits& limits) noexcept;
  void release_message() noexcept { message_.reset(); }

  uint64_t remaining_ = 0;        // payload bytes of the current frame still to come
  uint64_t message_size_ = 0;     // payload bytes of the current data message so far
  std::unique_ptr<std::string> message_;  // assembly buffer, only while a message spans
  std::unique_ptr<std::string> control_;  // a control frame split across reads (rare)
  Utf8Validator utf8_;
  uint8_t header_[kMaxHeader];
  uint8_t header_size_ = 0;       // header bytes buffered from an earlier feed
  uint8_t mask_[4] = {};
  uint8_t mask_offset_ = 0;
  Opcode opcode_ = Opcode::continuation;   // current frame
  uint8_t message_opcode_ = 0;    // text/binary of the data message in progress, 0 when none
  bool fin_ = false;
  bool in_frame_ = false;
  bool compressed_ = false;       // RSV1 on the first frame of the message in progress
  bool failed_ = false;
};

// ---------------------------------------------------------------------------------------------

template <DecodeHandler Handler>
DecodeResult FrameDecoder::feed(uint8_t* data, size_t size, const DecodeLimits& limits,
                                Handler& handler) {
  if (failed_) return {DecodeResult::Status::error, WsError::decoder_failed, 0};
  size_t pos = 0;
  while (pos < size) {
    if (!in_frame_) {
      // Gather the header: straight from `data` when it is all there, else buffered.
      const uint8_t* header;
      if (header_size_ == 0 && size - pos >= 2 && size - pos >= header_size(data[pos + 1])) {
        header = data + pos;
        if (WsError fault = check_start(header[0], header[1], limits); fault != WsError{}) return fail(fault, pos);
        pos += header_size(header[1]);
      } else {
        while (pos < size && header_size_ < 2) header_[header_size_++] = data[pos++];
        if (header_size_ < 2) break;
        if (WsError fault = check_start(header_[0], header_[1], limits); fault != WsError{}) return fail(fault, pos);
        size_t need = header_size(header_[1]);
        while (pos < size && header_size_ < need) header_[header_size_++] = data[pos++];
        if (header_size_ < need) break;
        header = header_;
        header_size_ = 0;
      }
      if (WsError fault = begin_frame(header, limits); fault != WsError{}) return fail(fault, pos);
      if (remaining_ != 0) continue;  // payload follows
    }

    // Payload: unmask what is here, validate text as it arrives, assemble when it spans.
    size_t chunk_size = static_cast<size_t>(remaining_ < size - pos ? remaining_ : size - pos);
    uint8_t* chunk = data + pos;
    mask_offset_ = apply_mask(chunk, chunk_size, mask_, mask_offset_);
    pos += chunk_size;
    remaining_ -= chunk_size;
    const bool is_control = static_cast<uint8_t>(opcode_) & 0x8;
    const bool frame_done = remaining_ == 0;
    if (frame_done) in_frame_ = false;
    std::string_view view(reinterpret_cast<const char*>(chunk), chunk_size);

    if (is_control) {
      if (!frame_done || control_) {
        if (!control_) control_ = std::make_unique<std::string>();
        control_->append(view);
        if (!frame_done) continue;
        view = *control_;
      }
    } else {
      if (message_opcode_ == static_cast<uint8_t>(Opcode::text) && !compressed_ &&
          !utf8_.feed(chunk, chunk_size))
        return fail(WsError::invalid_utf8, pos);
      const bool whole_here = frame_done && fin_ && !message_ && chunk_size == message_size_;
      if (!whole_here) {
        if (!message_) {
          message_ = std::make_unique<std::string>();
          // The announced size is only a hint: a peer may announce much and send little, so
          // reserve at most 64 KiB up front and let the buffer grow with what really arrives.
          message_->reserve(static_cast<size_t>(message_size_ < kReserveCap ? message_size_ : kReserveCap));
        }
        message_->append(view);
        if (!(frame_done && fin_)) continue;
        view = *message_;
      }
    }
    bool go_on = true;
    switch (opcode_) {
      case Opcode::ping: go_on = handler.on_ping(view); break;
      case Opcode::pong: go_on = handler.on_pong(view); break;
      case Opcode::close: {
        uint16_t code = close_code::no_status;
        std::string_view reason;
        if (view.size() == 1) return fail(WsError::one_byte_close, pos);
        if (view.size() >= 2) {
          code = static_cast<uint16_t>((static_cast<uint8_t>(view[0]) << 8) | static_cast<uint8_t>(view[1]));
          if (!is_valid_close_code(code)) return fail(WsError::invalid_close_code, pos);
          reason = view.substr(2);
          if (!is_valid_utf8(reason)) return fail(WsError::invalid_utf8_close_reason, pos);
        }
        handler.on_close(code, reason);
        control_.reset();
        return {DecodeResult::Status::stopped, {}, pos};
      }
      default: {
        if (message_opcode_ == static_cast<uint8_t>(Opcode::text) && !compressed_ && !utf8_.complete())
          return fail(WsError::truncated_utf8, pos);
        const Opcode op = static_cast<Opcode>(message_opcode_);
        const bool compressed = compressed_;
        message_opcode_ = 0;
        message_size_ = 0;
        compressed_ = false;
        utf8_.reset();
        go_on = handler.on_message(op, view, compressed);
        release_message();
        break;
      }
    }
    if (is_control) control_.reset();
    if (!go_on) return {DecodeResult::Status::stopped, {}, pos};
  }
  return {DecodeResult::Status::ok, {}, pos};
}

}  // namespace capstan::ws
