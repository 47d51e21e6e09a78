// permessage-deflate on a connection: the negotiation at the upgrade, compressing what the
// component sends, inflating what the client sends (bounded by max_message_size).
#include "app/connection_output.hpp"
#include "app/http_phase.hpp"
#include "app/ws_session.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "http/request_parser.hpp"
#include "ws/utf8.hpp"

namespace capstan::app {

std::string HttpPhase::negotiate_compression(ConnectionImpl& c_, const http::Request& req) {
  const CompressionConfig& config = c_.ctx_.compression();
  if (!config.enabled) return {};
  // Several Sec-WebSocket-Extensions lines form one comma-separated list (RFC 9110 §5.3).
  std::string offers;
  for (size_t i = 0; i < req.header_count; ++i) {
    if (!util::iequals(req.headers[i].name, "Sec-WebSocket-Extensions")) continue;
    if (!offers.empty()) offers += ',';
    offers.append(req.headers[i].value);
  }
  if (offers.empty()) return {};
  const bool shared = config.mode == CompressionMode::shared;
  auto params = ws::negotiate_deflate(offers, ws::DeflatePolicy{shared});
  if (!params) return {};
  c_.compression_ = std::make_unique<Compression>();
  c_.compression_->params = *params;
  c_.compression_->shared = shared;
  return ws::deflate_response(*params);
}

std::string_view OutputPath::compress_message(ConnectionImpl& c_, std::string_view message) {
  const ws::DeflateParams& p = c_.compression_->params;
  std::string& out = c_.ctx_.deflate_buffer();
  if (c_.compression_->shared) {
    c_.ctx_.shared_deflater(p.server_max_window_bits).compress(message, out, true);
  } else {
    if (!c_.compression_->deflater)
      c_.compression_->deflater = std::make_unique<ws::Deflater>(c_.ctx_.compression().level, p.server_max_window_bits);
    c_.compression_->deflater->compress(message, out, p.server_no_context_takeover);
  }
  return out;
}

bool WsSession::inflate_message(ConnectionImpl& c_, std::string_view compressed, Opcode opcode, std::string_view& out) {
  const ws::DeflateParams& p = c_.compression_->params;
  std::string& buffer = c_.ctx_.inflate_buffer();
  const size_t limit = c_.ctx_.limits().max_message_size;
  WsError r;
  if (c_.compression_->shared) {
    r = c_.ctx_.shared_inflater().inflate(compressed, buffer, limit, true);
  } else {
    if (!c_.compression_->inflater) c_.compression_->inflater = std::make_unique<ws::Inflater>(15);
    r = c_.compression_->inflater->inflate(compressed, buffer, limit, p.client_no_context_takeover);
  }
  if (r != WsError{}) {
    fail(c_, r);  // a deflate bomb stops here, as message_too_big
    return false;
  }
  if (opcode == Opcode::text && !ws::is_valid_utf8(buffer)) {
    fail(c_, WsError::invalid_utf8);
    return false;
  }
  out = buffer;
  return true;
}

}  // namespace capstan::app
