// Small vocabulary types shared by the whole public API: opcodes, close codes, send results.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace capstan {

using Duration = std::chrono::milliseconds;

// RFC 6455 §5.2 opcodes.
enum class Opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// RFC 6455 §7.4.1 status codes the server itself sends.
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t protocol_error = 1002;
inline constexpr uint16_t unsupported_data = 1003;
inline constexpr uint16_t no_status = 1005;  // never on the wire: "the peer sent no code"
inline constexpr uint16_t abnormal = 1006;   // never on the wire: "the TCP connection just ended"
inline constexpr uint16_t invalid_payload = 1007;
inline constexpr uint16_t policy_violation = 1008;
inline constexpr uint16_t message_too_big = 1009;
inline constexpr uint16_t mandatory_extension = 1010;
inline constexpr uint16_t internal_error = 1011;

// Whether `code` may be sent in a close frame (RFC 6455 §7.4: 1000-1003, 1007-1014, 3000-4999);
// Connection::close replaces any other with 1000.
bool may_send(uint16_t code) noexcept;
}  // namespace close_code

// What Connection::send did with a message. Backpressure is part of the API: a component
// that sees `backpressure` should stop producing for that connection until it drains.
enum class SendStatus : uint8_t {
  sent,          // written to the kernel or queued below the soft limit
  backpressure,  // queued, but the connection's unsent bytes are over the soft limit
  dropped,       // not queued: the hard cap (limits.send_buffer) was reached, or closed
};

// Where an action's reply goes.
enum class Target : uint8_t {
  all,     // every connection of the route, on every loop (the tutorial's loop)
  sender,  // the sending connection
  self,    // every connection of the sender's user
  users,   // the users listed in data.to (ids, or identities as strings)
  none,    // nobody: the action only has effects
};

// A complete message handed to a component. `data` is valid only during the callback.
struct Message {
  std::string_view data;
  bool binary = false;
};

// Why a connection ended, handed to Component::on_close.
struct CloseInfo {
  uint16_t code = close_code::abnormal;  // the peer's code, or 1006 when none was exchanged
  std::string_view reason;
  bool clean = false;  // a close frame was received from the peer
};

}  // namespace capstan
