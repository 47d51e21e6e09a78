// The SQLite driver: one connection to an existing database file, with its prepared
// statements kept per SQL text.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace capstan::db {

class SqliteDatabase final : public Database {
 public:
  // The file must exist (it is never created) and be a SQLite database.
  static Expected<std::unique_ptr<SqliteDatabase>> open(const std::string& path);
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  Expected<Result> query(std::string_view sql, const std::vector<Param>& params) override;

  size_t cached_statements() const { return statements_.size(); }

 private:
  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  Expected<sqlite3_stmt*> statement(std::string_view sql);
  Status bind(sqlite3_stmt* stmt, const std::vector<Param>& params);
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace capstan::db
