// Authentication as the server runs it: one verifier, the token sources, and the worker pool
// that looks users up in the database. Built once at start, read-only afterwards, shared by
// every loop (the verifier and the pool are thread-safe).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.hpp"
#include "auth/token_source.hpp"
#include "capstan/config.hpp"
#include "db/worker_pool.hpp"

namespace capstan::app {

class AuthService {
 public:
  // `verify`: some route authenticates (keys are loaded); `database`: user lookups or sql
  // actions need the worker pool. nullptr and `error` when a key or the database fails.
  static std::unique_ptr<AuthService> create(const Config& config, bool verify, bool database, std::string& error);
  ~AuthService();

  // The verifier of the moment: a reload (SIGHUP) may replace it while loops verify, so each
  // handshake holds its own reference for the verification.
  // Null on a server that lets anonymous connections in (auth.required = false) and has no
  // usable key: tokens cannot be verified there, so a connection that sends one is refused.
  std::shared_ptr<const auth::Verifier> verifier() const noexcept { return verifier_.load(std::memory_order_acquire); }
  // Some route authenticates: reloads load keys.
  bool verifies() const noexcept { return verifies_; }
  // Loads the keys again from `auth`; false and `error` (the old keys stay) when they fail.
  bool reload_keys(const AuthConfig& auth, const std::string& base_dir, std::string& error);
  const std::vector<auth::TokenSource>& sources() const noexcept { return sources_; }
  bool required() const noexcept { return required_; }
  // A users provider is configured: the identity must be found in the database.
  bool looks_up_users() const noexcept { return looks_up_; }
  bool recheck_each_message() const noexcept { return recheck_; }
  // users.recheck as a duration: how often every connected user is looked up again (0: never).
  Duration recheck_interval() const noexcept { return recheck_interval_; }
  db::WorkerPool* workers() const noexcept { return workers_.get(); }

  enum class Lookup : uint8_t { found, unknown, failed };
  // Worker thread: the user id of `identity`, by the configured query.
  Lookup lookup_user(db::Database* db, const std::string& open_error, std::string_view identity, int64_t& id,
                     std::string& error) const;

  // With provider "none" the identity is the id when it is a number.
  static int64_t id_from_identity(std::string_view identity) noexcept;

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
  std::unique_ptr<db::WorkerPool> workers_;
};

}  // namespace capstan::app
