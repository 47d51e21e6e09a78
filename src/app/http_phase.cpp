// The HTTP phase of a connection: the request, the route decision, the plain endpoints and
// static files, the origin check, the upgrade's 101 (and the authentication of
// http_auth.cpp before it), and handing the connection to its component.
#include "app/http_phase.hpp"

#include <algorithm>

#include "app/auth_service.hpp"
#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/http_endpoints.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "app/ws_session.hpp"
#include "http/handshake.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"
#include "http/static_files.hpp"

namespace capstan::app {

namespace {
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
}  // namespace

void HttpPhase::on_data(ConnectionImpl& c_, const char* data, size_t size) {
  if (!c_.handshake_) c_.handshake_ = std::make_unique<Handshake>(c_.ctx_.limits().max_header_size);
  Handshake& hs = *c_.handshake_;
  if (hs.exchange) {  // reading paused behind an answer: nothing more arrives, but be safe
    hs.buffer.append(data, size);
    return;
  }
  if (c_.proxy_header_due_) return on_proxy_header_data(c_, data, size);
  // Usually the whole request arrives in one read: parse it where it lies.
  if (hs.buffer.empty()) return parse_requests(c_, std::string_view(data, size), false);
  hs.buffer.append(data, size);
  parse_requests(c_, hs.buffer, true);
}

void HttpPhase::parse_requests(ConnectionImpl& c_, std::string_view input, bool in_buffer) {
  Handshake& hs = *c_.handshake_;
  // What is left from `offset` on waits in the buffer for more bytes or for an answer.
  auto keep = [&](size_t offset) {
    if (in_buffer) hs.buffer.erase(0, offset);
    else hs.buffer.assign(input.substr(offset));
  };
  size_t offset = 0;
  for (;;) {
    const std::string_view rest = input.substr(offset);
    http::ParseResult r = hs.parser.parse(rest, hs.request);
    if (r.status == http::ParseResult::Status::incomplete) return keep(offset);
    if (r.status == http::ParseResult::Status::error) return refuse_upgrade(c_, r.error);
    if (c_.address_pending_ && !settle_forwarded_client(c_, hs.request)) return;  // refused: draining
    const http::UpgradeCheck upgrade = http::check_upgrade(hs.request);
    if (upgrade.kind != http::UpgradeCheck::Kind::not_websocket)
      return handle_upgrade(c_, hs.request, upgrade, rest.data() + r.head_size, rest.size() - r.head_size);
    size_t body_size = 0;
    if (!plain_request_fits(c_, hs.request, body_size)) return;  // refused
    if (rest.size() - r.head_size < body_size) {
      // A client that asked to hear first (curl does past 1 KiB) sends the body on our 100.
      if (rest.size() == r.head_size && hs.request.version_minor == 1 && hs.request.header_has_token("Expect", "100-continue"))
        OutputPath::queue_raw(c_, kContinue.data(), kContinue.size());
      return keep(offset);
    }
    hs.dispatching = true;
    hs.answered = false;
    serve_plain(c_, hs.request, rest.substr(r.head_size, body_size));
    if (c_.state_ != ConnectionImpl::State::http || !c_.handshake_) return;  // drained or closed: `hs` may be gone
    hs.dispatching = false;
    offset += r.head_size + body_size;
    if (!hs.answered) {
      // Answered later: the next request waits, and so does reading.
      keep(offset);
      c_.pause_reading();
      return;
    }
    if (offset == input.size()) {
      if (in_buffer) hs.buffer.clear();
      return;
    }
  }
}

void HttpPhase::handle_upgrade(ConnectionImpl& c_, const http::Request& req, const http::UpgradeCheck& upgrade,
                               const char* after_head, size_t after_size) {
  if (upgrade.kind == http::UpgradeCheck::Kind::invalid) return refuse_upgrade(c_, upgrade.error);
  const Route* route = c_.ctx_.find_route(req.path);
  if (!route) return refuse_upgrade(c_, HttpError::no_route);
  const auto& origins = c_.ctx_.server_config().allowed_origins;
  if (!origins.empty()) {
    std::string_view origin = req.header("Origin");
    if (std::find(origins.begin(), origins.end(), origin) == origins.end())
      return refuse_upgrade(c_, HttpError::origin_not_allowed);
  }

  c_.route_ = route;
  c_.target_.assign(req.target);
  const AuthService* auth = route->auth ? c_.ctx_.auth() : nullptr;
  auth::FoundToken token;
  const bool has_token = auth && auth::find_token(req, c_.query(), auth->sources(), route->protocols, token);
  // A token offered as a subprotocol is answered with one of the offered protocols.
  const std::string_view protocol = has_token && token.from_protocol ? std::string_view(token.protocol_answer)
                                                                     : http::select_subprotocol(req, route->protocols);
  for (size_t i = 0; i < route->protocols.size() && i < ConnectionImpl::kNoSubprotocol; ++i)
    if (!protocol.empty() && route->protocols[i] == protocol) c_.subprotocol_ = static_cast<uint8_t>(i);
  const std::string extensions = negotiate_compression(c_, req);
  std::string response;
  http::append_switching_protocols(response, http::accept_key(upgrade.key), protocol, extensions);
  if (auth) {
    start_authentication(c_, has_token ? std::string_view(token.token) : std::string_view{}, std::move(response),
                         after_head, after_size);
    return;
  }
  OutputPath::queue_raw(c_, response.data(), response.size());
  switching_protocols_sent(c_);
  c_.state_ = ConnectionImpl::State::open;
  open_now(c_, after_head, after_size);
}

void HttpPhase::refuse_upgrade(ConnectionImpl& c_, HttpError error) {
  c_.ctx_.metrics().handshake_refused(http_status_of(error));
  respond_and_drain(c_, error);
}

void HttpPhase::respond_and_drain(ConnectionImpl& c_, HttpError error) {
  std::string response;
  http::append_error(response, http_status_of(error), describe(error));
  OutputPath::queue_raw(c_, response.data(), response.size());
  OutputPath::enter_draining(c_);
}

void HttpPhase::switching_protocols_sent(ConnectionImpl& c_) noexcept {
  c_.ctx_.metrics().handshake_completed(c_.accepted_us_);
  c_.last_ping_ms_ = c_.now_ms();  // c_.accepted_us_ is done with: the field is the ping clock from now on
}

void HttpPhase::open_now(ConnectionImpl& c_, const char* early, size_t early_size) {
  c_.opened_ = true;
  c_.ctx_.route_opened(c_.route_);
  c_.route_->counters.opened.add();
  c_.run_guarded("on_open", [&] { c_.route_->component->on_open(c_); });  // header() reads c_.handshake_, alive until below

  // Frames a client sent right behind its request (it may not wait for the 101).
  if (early_size && (c_.state_ == ConnectionImpl::State::open || c_.state_ == ConnectionImpl::State::closing)) {
    std::string rest(early, early_size);  // the views above die with the handshake
    c_.handshake_.reset();
    WsSession::on_data(c_, reinterpret_cast<uint8_t*>(rest.data()), rest.size());
  } else {
    c_.handshake_.reset();
  }
}

}  // namespace capstan::app
