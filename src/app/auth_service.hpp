// Authentication as the server runs it: one verifier, the token sources, and the [users]
// provider's lookups (run on the server's worker pool, server.cpp). Built once at start,
// read-only afterwards except the verifier (reload), shared by every loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.hpp"
#include "auth/token_source.hpp"
#include "capstan/backend.hpp"
#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "capstan/users.hpp"

namespace capstan::app {

class AuthService final : public Users {
 public:
  // `verify`: some route authenticates (keys are loaded). Fails when a token source is bad
  // or a key fails (unless anonymous connections are allowed).
  // `backend`: the server's [backend], which the connect proxy calls; it outlives the service.
  static Expected<std::unique_ptr<AuthService>> create(const Config& config, bool verify, const Backend& backend);
  ~AuthService();

  // The verifier of the moment: a reload (SIGHUP) may replace it while loops verify, so each
  // handshake holds its own reference for the verification.
  // Null on a server that lets anonymous connections in (auth.required = false) and has no
  // usable key: tokens cannot be verified there, so a connection that sends one is refused.
  std::shared_ptr<const auth::Verifier> verifier() const noexcept { return verifier_.load(std::memory_order_acquire); }
  // Some route authenticates: reloads load keys.
  bool verifies() const noexcept { return verifies_; }
  // Loads the keys again from `auth`; when they fail, the old keys stay.
  Status reload_keys(const AuthConfig& auth, const std::string& base_dir);
  const std::vector<auth::TokenSource>& sources() const noexcept { return sources_; }
  bool required() const noexcept { return required_; }
  // A users provider is configured: the identity must be found in the database.
  bool looks_up_users() const noexcept { return looks_up_; }
  // The connect proxy decides who a connection with this token (maybe none) is: with
  // auth.proxy.url set, always in mode "only", when there is no token in "fallback".
  bool proxies(std::string_view token) const noexcept {
    return !proxy_url_.empty() && (proxy_only_ || token.empty());
  }
  const std::string& proxy_url() const noexcept { return proxy_url_; }
  const Backend& backend() const noexcept { return *backend_; }
  // The connect proxy's requests in flight, all loops together ([backend] max_in_flight).
  const std::shared_ptr<InFlightLimit>& proxy_limit() const noexcept { return proxy_limit_; }
  // Its requests in /metrics, under route="auth.proxy".
  BackendMetrics& proxy_metrics() const noexcept { return *proxy_metrics_; }
  // Users
  bool recheck_each_message() const noexcept override { return recheck_; }
  Duration recheck_interval() const noexcept override { return recheck_interval_; }
  Expected<int64_t> lookup(db::Database* db, const Error& open_error, std::string_view identity) const override;

 private:
  AuthService() = default;
  std::atomic<std::shared_ptr<const auth::Verifier>> verifier_;
  std::vector<auth::TokenSource> sources_;
  std::string user_query_;
  bool required_ = true;
  bool verifies_ = false;
  bool looks_up_ = false;
  bool recheck_ = false;
  Duration recheck_interval_{0};
  std::string proxy_url_;
  bool proxy_only_ = false;
  const Backend* backend_ = nullptr;  // the server's [backend]
  std::shared_ptr<InFlightLimit> proxy_limit_;
  std::unique_ptr<BackendMetrics> proxy_metrics_;
};

}  // namespace capstan::app
