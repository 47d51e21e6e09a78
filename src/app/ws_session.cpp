// The WebSocket session of a connection: frames from the decoder to the component, the
// message rate, the close handshake, and the timeouts the loop's coarse tick checks.
#include "app/ws_session.hpp"

#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"

namespace capstan::app {

// Adapts the decoder's events to the connection: component callbacks and protocol replies.
struct DecoderEvents {
  ConnectionImpl& c;

  bool on_message(Opcode op, std::string_view payload, bool compressed) {
    if (c.state_ != ConnectionImpl::State::open) return true;  // closing: data is discarded
    if (compressed && !WsSession::inflate_message(c, payload, op, payload)) return false;
    c.route_->counters.received(payload.size());
    if (!WsSession::admit_message(c)) {
      c.ctx_.metrics().limit_hit(metrics::LimitKind::messages);
      if (c.ctx_.message_limit().closes) {
        WsSession::fail(c, WsError::rate_limited);
        return false;
      }
      c.run_guarded("on_rate_limited", [&] { c.route_->component->on_rate_limited(c, Message{payload, op == Opcode::binary}); });
    } else {
      c.run_guarded("on_message", [&] { c.route_->component->on_message(c, Message{payload, op == Opcode::binary}); });
    }
    return c.state_ == ConnectionImpl::State::open || c.state_ == ConnectionImpl::State::closing;
  }
  bool on_ping(std::string_view payload) {
    // Pongs count against the send buffer like any output: a client that pings without
    // reading would otherwise make us hold its pongs without limit.
    if (c.state_ == ConnectionImpl::State::open) OutputPath::queue_frame(c, Opcode::pong, payload.data(), payload.size(), false);
    return c.state_ == ConnectionImpl::State::open || c.state_ == ConnectionImpl::State::closing;
  }
  bool on_pong(std::string_view) { return true; }
  bool on_close(uint16_t code, std::string_view reason) {
    c.close_received_ = true;
    c.peer_close_code_ = code;
    if (!reason.empty()) c.extras().peer_close_reason = reason;
    if (!c.close_sent_) c.ctx_.metrics().closed(code);  // the peer closed first (1005: without a code)
    // Echo the peer's code (RFC 6455 §5.5.1); a close without a code is answered without one.
    if (!c.close_sent_) WsSession::send_close_frame(c, code == close_code::no_status ? 0 : code, {});
    OutputPath::enter_draining(c);
    return false;
  }
};

void WsSession::on_data(ConnectionImpl& c_, uint8_t* data, size_t size) {
  ws::DecodeLimits limits{c_.ctx_.limits().max_message_size, c_.compression_ != nullptr};
  DecoderEvents events{c_};
  ws::DecodeResult r = c_.decoder_.feed(data, size, limits, events);
  if (r.status == ws::DecodeResult::Status::error) fail(c_, r.error);
}

void WsSession::fail(ConnectionImpl& c_, WsError error) {
  tell_component(c_, error);
  close_for(c_, error);
}

void WsSession::fail_while_sending(ConnectionImpl& c_, WsError error) {
  if (c_.opened_ && c_.route_) c_.ctx_.late_errors().add(&c_, error);
  close_for(c_, error);
}

void WsSession::tell_component(ConnectionImpl& c_, WsError error) {
  if (c_.opened_ && c_.route_) c_.run_guarded("on_error", [&] { c_.route_->component->on_error(c_, Error{error}); });
}

void WsSession::close_for(ConnectionImpl& c_, WsError error) {
  const uint16_t code = close_code_of(error);
  const std::string_view reason = describe(error);
  if (c_.state_ == ConnectionImpl::State::closed || c_.state_ == ConnectionImpl::State::draining) return;
  if (!c_.close_sent_) send_close_frame(c_, code, reason);
  OutputPath::enter_draining(c_);
}

void WsSession::start_close(ConnectionImpl& c_, uint16_t code, std::string_view reason) {
  if (c_.state_ != ConnectionImpl::State::open) return;
  send_close_frame(c_, code, reason);
  c_.state_ = ConnectionImpl::State::closing;
  c_.phase_start_ms_ = c_.now_ms();
}

void WsSession::sweep(ConnectionImpl& c_, uint64_t now64) {
  const Limits& l = c_.ctx_.limits();
  const uint32_t now = static_cast<uint32_t>(now64);
  auto passed = [now](uint32_t since, Duration timeout) { return now - since >= static_cast<uint64_t>(timeout.count()); };
  switch (c_.state_) {
    case ConnectionImpl::State::http:
    case ConnectionImpl::State::authenticating:
      if (c_.handshake_ && c_.handshake_->exchange) return;  // an answer in the making, or a stream
      if (passed(c_.phase_start_ms_, l.handshake_timeout)) {
        net::Transport* transport = c_.own_transport();
        if (transport && !transport->established()) transport->abandoned();  // a stalled TLS handshake: counted there
        // A kept-alive connection idle between requests is no failed handshake.
        else if (!c_.handshake_ || !c_.handshake_->served) c_.ctx_.metrics().handshake_failed(metrics::HandshakeFailure::timeout);
        c_.close_now();
      }
      return;
    case ConnectionImpl::State::closing:
    case ConnectionImpl::State::draining:
      if (passed(c_.phase_start_ms_, l.close_timeout)) c_.close_now();
      return;
    case ConnectionImpl::State::open:
      if (static_cast<int32_t>(c_.message_tat_us_ - now * 1000) < 0) c_.message_tat_us_ = now * 1000;  // see admit_message
      if (passed(c_.last_read_ms_, l.idle_timeout)) {
        fail(c_, WsError::idle_timeout);
      } else if (passed(c_.last_read_ms_, l.ping_interval) && passed(c_.last_ping_ms_, l.ping_interval)) {
        OutputPath::queue_frame(c_, Opcode::ping, nullptr, 0, true);
        c_.last_ping_ms_ = now;
      }
      return;
    case ConnectionImpl::State::closed:
      return;
  }
}

bool WsSession::admit_message(ConnectionImpl& c_) noexcept {
  // GCRA: the bucket is a theoretical arrival time that each message moves on by one
  // interval; a message is refused when that time runs more than `burst` intervals ahead of
  // now. One 32-bit field, integer arithmetic; the sweep keeps it from falling behind now by
  // more than a tick, so the 71-minute wrap of 32-bit microseconds never shows.
  const LoopContext::MessageLimit& limit = c_.ctx_.message_limit();
  if (limit.interval_us == 0) return true;
  const uint32_t now = static_cast<uint32_t>(c_.ctx_.loop().now_ms() * 1000);
  const uint32_t tat = static_cast<int32_t>(c_.message_tat_us_ - now) > 0 ? c_.message_tat_us_ : now;
  if (tat - now > limit.tolerance_us) return false;
  c_.message_tat_us_ = tat + limit.interval_us;
  return true;
}

void WsSession::send_close_frame(ConnectionImpl& c_, uint16_t code, std::string_view reason) {
  uint8_t payload[125];
  size_t size = code ? ws::encode_close_payload(payload, code, reason.data(), reason.size()) : 0;
  if (!c_.close_received_) c_.ctx_.metrics().closed(code);  // we close first; echoes were counted as the peer's
  c_.close_sent_ = true;
  OutputPath::queue_frame(c_, Opcode::close, reinterpret_cast<const char*>(payload), size, true);
}

}  // namespace capstan::app
