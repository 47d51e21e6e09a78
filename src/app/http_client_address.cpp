// Who the client is behind a trusted proxy (server.trusted_proxies), a part of the HTTP phase:
// the PROXY header a trusted proxy sends first (server.proxy_protocol), X-Forwarded-For on its
// first request, and the per-address limits applied to the client once it is known (Admission
// counted the proxy's connection in the total only). From then on the connection's peer is
// the client: limits, logs, remote_address(), the connect proxy's "address" all see it.
// A connection's client is settled once, by the PROXY header or its first request: nginx
// opens an upstream connection per WebSocket, and a keep-alive upstream connection that carries
// several clients' plain requests in turn stays with the first.
#include <string>

#include "app/admission.hpp"
#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/http_phase.hpp"
#include "app/loop_context.hpp"
#include "http/forwarded_for.hpp"
#include "http/response.hpp"
#include "net/proxy_header.hpp"
#include "util/log.hpp"

namespace capstan::app {

void HttpPhase::on_proxy_header_data(ConnectionImpl& c_, const char* data, size_t size) {
  Handshake& hs = *c_.handshake_;
  const bool in_buffer = !hs.buffer.empty();
  if (in_buffer) hs.buffer.append(data, size);
  const std::string_view input = in_buffer ? std::string_view(hs.buffer) : std::string_view(data, size);
  const net::ProxyHeader header = net::parse_proxy_header(input, c_.ctx_.limits().max_header_size);
  if (header.status == net::ProxyHeader::Status::incomplete) {
    if (!in_buffer) hs.buffer.assign(data, size);
    return;
  }
  if (header.status == net::ProxyHeader::Status::error) {
    // The protocol's rule (proxy-protocol.txt, 2.1 and 2.2): an invalid header drops the
    // connection; there is no answer the proxy would understand.
    c_.ctx_.metrics().handshake_failed(metrics::HandshakeFailure::proxy_header);
    log::warn("bad PROXY header", {{"reason", net::describe(header.error)}, {"remote", c_.peer_.to_string()}});
    c_.close_now();
    return;
  }
  c_.proxy_header_due_ = false;
  if (header.has_source) c_.peer_ = header.source;
  // A client that is itself a trusted proxy may still name another in X-Forwarded-For.
  if (!c_.ctx_.trusted_proxies().contains(c_.peer_) && !admit_client(c_)) return;
  if (input.size() == header.size) {
    hs.buffer.clear();
    return;
  }
  if (!in_buffer) return parse_requests(c_, input.substr(header.size), false);
  hs.buffer.erase(0, header.size);
  parse_requests(c_, hs.buffer, true);
}

bool HttpPhase::settle_forwarded_client(ConnectionImpl& c_, const http::Request& request) {
  if (auto client = http::client_from_forwarded_for(request, c_.ctx_.trusted_proxies())) c_.peer_ = *client;
  return admit_client(c_);
}

bool HttpPhase::admit_client(ConnectionImpl& c_) {
  const IpLimiter::Verdict verdict = c_.ctx_.admission().admit_address(c_.peer_, c_.ctx_.loop().now_ms());
  if (verdict == IpLimiter::Verdict::admitted) {
    c_.address_pending_ = false;
    return true;
  }
  const char* reason = Admission::refusal_reason(verdict);
  log::info("connection refused", {{"reason", reason}, {"remote", c_.peer_.to_string()}});
  std::string response;
  http::append_error(response, 429, reason);
  OutputPath::queue_raw(c_, response.data(), response.size());
  OutputPath::enter_draining(c_);
  return false;
}

}  // namespace capstan::app
