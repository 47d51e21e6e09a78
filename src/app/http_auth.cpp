// Authentication of a connection on an authenticating route: the token found in the upgrade
// request is verified on the loop (a signature check, no I/O); with a users provider the
// identity is then looked up on a worker while the connection reads nothing and its 101
// waits, and only then does the component see the connection. With the connect proxy, the
// web application is asked instead (on the loop's HTTP client), the 101 waiting the same way. Failures complete the handshake and hand the
// connection to Component::on_refused (the notify component answers fatalError, then closes).
#include <ctime>

#include "app/auth_service.hpp"
#include "app/connection_output.hpp"
#include "app/http_phase.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "backend/connect_proxy.hpp"
#include "util/log.hpp"

namespace capstan::app {

void HttpPhase::start_authentication(ConnectionImpl& c_, std::string_view token, std::string switching, const char* after_head,
                                          size_t after_size) {
  const AuthService& auth = *c_.ctx_.auth();
  auto complete_handshake = [&] {
    OutputPath::queue_raw(c_, switching.data(), switching.size());
    switching_protocols_sent(c_);
    c_.state_ = ConnectionImpl::State::open;
  };
  if (auth.proxies(token)) return start_proxy(c_, std::move(switching), after_head, after_size);
  if (token.empty()) {
    complete_handshake();
    if (auth.required()) {
      c_.ctx_.metrics().auth_failed(metrics::AuthFailure::no_token);
      refuse(c_, close_code::policy_violation, "no token");
    }
    else open_now(c_, after_head, after_size);  // anonymous
    return;
  }
  // A token that fails is refused even where anonymous connections are allowed: its holder
  // meant to be someone, and should learn that the token expired rather than lose identity.
  const std::shared_ptr<const auth::Verifier> verifier = auth.verifier();
  Expected<auth::VerifiedToken> verified =
      verifier ? verifier->verify(token, static_cast<int64_t>(::time(nullptr)))
               : Error(AuthError::no_key, "tokens cannot be verified: no key configured");
  if (!verified || !auth.looks_up_users()) complete_handshake();
  if (!verified) {
    c_.ctx_.metrics().auth_failed(metrics::AuthFailure::invalid_token);
    return refuse(c_, close_code::policy_violation, verified.error().message());
  }

  if (!auth.looks_up_users()) {
    // The id first: arguments are evaluated in no set order, and the identity is moved.
    const int64_t id = AuthService::id_from_identity(verified->identity);
    c_.set_user(id, std::move(verified->identity), std::move(verified->claims));
    open_now(c_, after_head, after_size);
    return;
  }
  hold_handshake(c_, std::move(switching), after_head, after_size);
  c_.ctx_.jobs().offload(c_, [&auth, identity = std::move(verified->identity),
                       claims = std::move(verified->claims)](db::Database* db, const Error& open_error) mutable {
    return Continuation([found = auth.lookup(db, open_error, identity), identity = std::move(identity),
                         claims = std::move(claims)](ConnectionImpl& c) mutable {
      if (found) return HttpPhase::finish_lookup(c, 0, *found, std::move(identity), std::move(claims), {});
      if (found.error() == AuthError::unknown_user)
        return HttpPhase::finish_lookup(c, close_code::policy_violation, 0, {}, {}, "unknown user");
      log::error("user lookup failed", {{"reason", found.error().message()}});
      HttpPhase::finish_lookup(c, close_code::internal_error, 0, {}, {}, "user database unavailable");
    });
  });
}

void HttpPhase::hold_handshake(ConnectionImpl& c_, std::string switching, const char* after_head, size_t after_size) {
  // The answer may take milliseconds: read nothing meanwhile, so no message overtakes it,
  // and hold the 101 back, so that a client that sees the connection open is registered.
  c_.handshake_->early.assign(after_head, after_size);
  c_.handshake_->switching = std::move(switching);
  c_.state_ = ConnectionImpl::State::authenticating;
  c_.pause_reading();
}

void HttpPhase::start_proxy(ConnectionImpl& c_, std::string switching, const char* after_head, size_t after_size) {
  const AuthService& auth = *c_.ctx_.auth();
  const http::Request& req = c_.handshake_->request;
  const std::string body = backend::connect_body(
      req.path, req.query, std::span<const HttpHeader>(reinterpret_cast<const HttpHeader*>(req.headers), req.header_count),
      c_.peer_.to_string());
  hold_handshake(c_, std::move(switching), after_head, after_size);
  // The connection may close before the answer (a hang-up, the handshake timeout): the
  // answer then finds nothing by its reference.
  c_.ctx_.http_client().request(auth.backend().request(auth.proxy_url(), body),
                                [ref = c_.make_ref(), &auth](Expected<HttpClientResponse> response) {
                                  auth.proxy_metrics().count(response);
                                  Connection* c = ref.get();
                                  if (c) finish_proxy(static_cast<ConnectionImpl&>(*c), backend::read_connect_answer(response));
                                },
                                auth.proxy_limit());
}

void HttpPhase::finish_proxy(ConnectionImpl& c_, const backend::ConnectAnswer& answer) {
  if (!release_handshake(c_)) return;
  using Kind = backend::ConnectAnswer::Kind;
  switch (answer.kind) {
    case Kind::user:
      c_.set_user(answer.id, answer.identity, {}, answer.data);
      return open_held(c_);
    case Kind::anonymous: return open_held(c_);  // the application admits it without a user
    case Kind::refused:
      c_.ctx_.metrics().auth_failed(metrics::AuthFailure::proxy_refused);
      return refuse(c_, close_code::policy_violation, answer.reason);
    case Kind::failed:
      log::error("connect proxy failed", {{"reason", answer.reason}, {"path", c_.route_->path}});
      c_.ctx_.metrics().auth_failed(metrics::AuthFailure::proxy_failed);
      return refuse(c_, close_code::internal_error, "authentication backend unavailable");
  }
}

void HttpPhase::finish_lookup(ConnectionImpl& c_, uint16_t refuse_code, int64_t user_id, std::string identity, std::string claims,
                                   std::string_view error) {
  if (!release_handshake(c_)) return;
  if (refuse_code) {
    c_.ctx_.metrics().auth_failed(refuse_code == close_code::internal_error ? metrics::AuthFailure::database
                                                                          : metrics::AuthFailure::unknown_user);
    refuse(c_, refuse_code, error);
    return;
  }
  c_.set_user(user_id, std::move(identity), std::move(claims));
  open_held(c_);
}

bool HttpPhase::release_handshake(ConnectionImpl& c_) {
  if (c_.state_ != ConnectionImpl::State::authenticating) return false;  // closed meanwhile (shutdown, timeout, hang-up)
  OutputPath::queue_raw(c_, c_.handshake_->switching.data(), c_.handshake_->switching.size());
  switching_protocols_sent(c_);
  c_.state_ = ConnectionImpl::State::open;
  c_.resume_reading();
  return true;
}

void HttpPhase::open_held(ConnectionImpl& c_) {
  std::string early = std::move(c_.handshake_->early);
  open_now(c_, early.data(), early.size());
}

void HttpPhase::refuse(ConnectionImpl& c_, uint16_t code, std::string_view reason) {
  log::info("connection refused", {{"reason", reason}, {"remote", c_.peer_.to_string()}, {"path", c_.route_->path}});
  c_.handshake_.reset();
  c_.run_guarded("on_refused", [&] { c_.route_->component->on_refused(c_, code, reason); });
}

}  // namespace capstan::app
