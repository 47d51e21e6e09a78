#include "app/auth_service.hpp"

#include <charconv>

#include "util/log.hpp"

namespace capstan::app {

AuthService::~AuthService() = default;

Expected<std::unique_ptr<AuthService>> AuthService::create(const Config& config, bool verify, const Backend& backend) {
  std::unique_ptr<AuthService> s(new AuthService());
  const AuthConfig& a = config.auth;
  s->required_ = a.required;
  s->user_query_ = config.users.query;
  const bool proxy = verify && !a.proxy.url.empty();
  const bool proxy_only = proxy && a.proxy.mode == ProxyMode::only;
  if (proxy) {
    s->backend_ = &backend;
    if (!backend.has_secret())
      return Error(ConfigError::missing,
                   "backend.secret (or CAPSTAN_BACKEND_SECRET) is needed by auth.proxy.url: the application must be able "
                   "to trust what Capstan sends it");
    s->proxy_url_ = a.proxy.url;
    s->proxy_only_ = proxy_only;
    s->proxy_limit_ = backend.new_limit();
    s->proxy_metrics_ = std::make_unique<BackendMetrics>("auth.proxy");
  }
  // Mode "only": the application says who everyone is; tokens, keys and lookups are not used.
  s->looks_up_ = verify && !proxy_only && config.users.provider != UserProvider::none;
  s->recheck_ = s->looks_up_ && config.users.recheck == Recheck::message;
  if (s->looks_up_ && config.users.recheck == Recheck::periodic) s->recheck_interval_ = config.users.recheck_interval;
  if (verify && !proxy_only) {
    s->verifies_ = true;
    Expected<std::vector<auth::TokenSource>> sources = auth::parse_token_sources(a.sources);
    if (!sources) return std::move(sources).error();
    s->sources_ = std::move(*sources);
    if (Status loaded = s->reload_keys(a, config.base_dir); !loaded) {
      if (a.required && !proxy) return std::move(loaded).error();
      // Anonymous connections (or the connect proxy) need no key; someone who allows them and
      // configured none expects the server to start. Said once here, and in each refusal's
      // close reason.
      log::warn("tokens cannot be verified: a connection that sends a token is refused",
                {{"reason", loaded.error().message()}});
    }
  }
  return s;
}

Status AuthService::reload_keys(const AuthConfig& auth, const std::string& base_dir) {
  Expected<std::unique_ptr<auth::Verifier>> fresh = auth::Verifier::create(auth, base_dir);
  if (!fresh) return std::move(fresh).error();
  verifier_.store(std::shared_ptr<const auth::Verifier>(std::move(*fresh)), std::memory_order_release);
  return {};
}

Expected<int64_t> AuthService::lookup(db::Database* db, const Error& open_error, std::string_view identity) const {
  if (!db) return open_error;
  std::vector<db::Param> params{{"", db::Value::of(std::string(identity))}};
  Expected<db::Result> result = db->query(user_query_, params);
  if (!result) return std::move(result).error();
  if (result->rows.empty() || result->rows.front().empty()) return AuthError::unknown_user;
  const db::Value& v = result->rows.front().front();
  switch (v.type) {
    case db::Value::Type::integer: return v.integer;
    case db::Value::Type::text: return id_from_identity(v.text);
    case db::Value::Type::real: return static_cast<int64_t>(v.real);
    case db::Value::Type::null: break;
  }
  return AuthError::unknown_user;
}

}  // namespace capstan::app

namespace capstan {

int64_t Users::id_from_identity(std::string_view identity) noexcept {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(identity.data(), identity.data() + identity.size(), id);
  return ec == std::errc() && end == identity.data() + identity.size() ? id : 0;
}

}  // namespace capstan
