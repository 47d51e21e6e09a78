// permessage-deflate on a connection: the negotiation at the upgrade, compressing what the
// component sends, inflating what the client sends (bounded by max_message_size).
#include "app/connection_impl.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "http/request_parser.hpp"
#include "ws/utf8.hpp"

namespace capstan::app {

std::string ConnectionImpl::negotiate_compression(const http::Request& req) {
  const CompressionConfig& config = ctx_.compression();
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
  compression_ = std::make_unique<Compression>();
  compression_->params = *params;
  compression_->shared = shared;
  return ws::deflate_response(*params);
}

std::string_view ConnectionImpl::compress_message(std::string_view message) {
  const ws::DeflateParams& p = compression_->params;
  std::string& out = ctx_.deflate_buffer();
  if (compression_->shared) {
    ctx_.shared_deflater(p.server_max_window_bits).compress(message, out, true);
  } else {
    if (!compression_->deflater)
      compression_->deflater = std::make_unique<ws::Deflater>(ctx_.compression().level, p.server_max_window_bits);
    compression_->deflater->compress(message, out, p.server_no_context_takeover);
  }
  return out;
}

bool ConnectionImpl::inflate_message(std::string_view compressed, Opcode opcode, std::string_view& out) {
  const ws::DeflateParams& p = compression_->params;
  std::string& buffer = ctx_.inflate_buffer();
  const size_t limit = ctx_.limits().max_message_size;
  ws::Inflater::Result r;
  if (compression_->shared) {
    r = ctx_.shared_inflater().inflate(compressed, buffer, limit, true);
  } else {
    if (!compression_->inflater) compression_->inflater = std::make_unique<ws::Inflater>(15);
    r = compression_->inflater->inflate(compressed, buffer, limit, p.client_no_context_takeover);
  }
  if (r == ws::Inflater::Result::too_big) {
    fail(close_code::message_too_big, "message too big");  // a deflate bomb stops here
    return false;
  }
  if (r == ws::Inflater::Result::corrupt) {
    fail(close_code::invalid_payload, "invalid compressed data");
    return false;
  }
  if (opcode == Opcode::text && !ws::is_valid_utf8(buffer)) {
    fail(close_code::invalid_payload, "invalid UTF-8 in text message");
    return false;
  }
  out = buffer;
  return true;
}

}  // namespace capstan::app
