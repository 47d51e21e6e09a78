// The ws category: why a session is failed, and the RFC 6455 §7.4.1 code it closes with.
#include "capstan/error.hpp"

#include "capstan/types.hpp"
#include "util/error_category.hpp"

namespace capstan {

namespace {

struct Entry {
  uint16_t close_code;
  const char* text;  // the close frame's reason: at most 123 bytes
};

// Indexed by WsError.
constexpr Entry kEntries[] = {
    {close_code::internal_error, "internal error"},
    {close_code::protocol_error, "reserved bits set"},
    {close_code::protocol_error, "RSV1 on a control or continuation frame"},
    {close_code::protocol_error, "reserved opcode"},
    {close_code::protocol_error, "fragmented control frame"},
    {close_code::protocol_error, "control frame payload over 125 bytes"},
    {close_code::protocol_error, "continuation frame without a message in progress"},
    {close_code::protocol_error, "new data frame inside a fragmented message"},
    {close_code::protocol_error, "client frame not masked"},
    {close_code::protocol_error, "length not minimally encoded"},
    {close_code::protocol_error, "length with the most significant bit set"},
    {close_code::protocol_error, "close frame of one byte"},
    {close_code::protocol_error, "invalid close code"},
    {close_code::protocol_error, "decoder failed"},
    {close_code::invalid_payload, "invalid UTF-8 in text message"},
    {close_code::invalid_payload, "invalid UTF-8 in close reason"},
    {close_code::invalid_payload, "text message ends inside a UTF-8 sequence"},
    {close_code::invalid_payload, "invalid compressed data"},
    {close_code::message_too_big, "message too big"},
    {close_code::policy_violation, "message rate limit exceeded"},
    {close_code::policy_violation, "send buffer full"},
    {close_code::going_away, "idle timeout"},
    {close_code::internal_error, "internal error"},
};
constexpr int kCount = static_cast<int>(sizeof kEntries / sizeof kEntries[0]);
static_assert(kCount == static_cast<int>(WsError::component_failed) + 1, "one entry per WsError");

const Entry& entry(int value) noexcept { return kEntries[value > 0 && value < kCount ? value : 0]; }

const char* text_of(int value) noexcept { return entry(value).text; }

}  // namespace

const std::error_category& ws_category() noexcept {
  static const util::TableCategory category("capstan.ws", text_of);
  return category;
}

const char* describe(WsError e) noexcept { return entry(static_cast<int>(e)).text; }

uint16_t close_code_of(std::error_code code) noexcept {
  if (!code) return 0;
  return code.category() == ws_category() ? entry(code.value()).close_code : close_code::internal_error;
}

}  // namespace capstan
