// The [users] provider as components see it: maps a token's identity to a user id in the
// user database, and says how often connected users are to be looked up again.
#pragma once

#include <cstdint>
#include <string_view>

#include "capstan/database.hpp"
#include "capstan/error.hpp"
#include "capstan/types.hpp"

namespace capstan {

class Users {
 public:
  // In an offloaded job (a worker thread): the id of `identity` by users.query. `db` is the
  // job's connection, null when it could not be opened (`open_error` says why). An identity
  // the query does not find is AuthError::unknown_user; a database that fails, a DbError.
  virtual Expected<int64_t> lookup(db::Database* db, std::string_view open_error, std::string_view identity) const = 0;
  // users.recheck = "message": each message waits for a fresh lookup of its sender.
  virtual bool recheck_each_message() const noexcept = 0;
  // users.recheck as a duration: how often every connected user is looked up (0: never).
  virtual Duration recheck_interval() const noexcept = 0;

  // Ids often arrive as strings (form values, PHP): "2" is user 2; 0 when not a number.
  static int64_t id_from_identity(std::string_view identity) noexcept;

 protected:
  ~Users() = default;
};

}  // namespace capstan
