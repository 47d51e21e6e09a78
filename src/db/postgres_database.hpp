// The PostgreSQL driver (libpq): one connection, queries with text parameters whose types
// the server infers, and one reconnect-and-retry when the connection is found broken.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

struct pg_conn;  // libpq's PGconn

namespace capstan::db {

// A query in PostgreSQL's form: each ":name" replaced by "$n" (the same name, the same n).
// Defined in database.cpp beside Database::named_parameters, whose reading of quotes,
// comments, dollar quotes and "::" casts it shares.
struct PositionalQuery {
  std::string sql;
  std::vector<std::string> names;  // names[0] is $1
  int max_positional = 0;          // the highest "$n" written in the query itself; -1: a bad n
};
PositionalQuery to_positional(std::string_view sql);

class PostgresDatabase final : public Database {
 public:
  // `conninfo` is a libpq connection string ("host=... dbname=..." or a postgresql:// URI).
  static Expected<std::unique_ptr<PostgresDatabase>> open(const std::string& conninfo);
  ~PostgresDatabase() override;
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  Expected<Result> query(std::string_view sql, const std::vector<Param>& params) override;

 private:
  explicit PostgresDatabase(pg_conn* conn) : conn_(conn) {}
  Status reconnect();
  pg_conn* conn_;
};

}  // namespace capstan::db
