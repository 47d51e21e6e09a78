// SQLite through its C API. The connection belongs to one worker thread, so it is opened
// without SQLite's own mutexes; statements are prepared once per SQL text and reset after
// each use, since the same few lookups run again and again.
#include "db/sqlite_database.hpp"

#include <sqlite3.h>

#include <climits>

namespace capstan::db {

namespace {

constexpr int kBusyTimeoutMs = 2000;   // another writer holding the file: wait this long
constexpr size_t kMaxStatements = 64;  // more distinct texts than this: start the cache over

// True when only blanks, semicolons and comments are left: one statement per query.
bool only_trailing_noise(const char* p) {
  while (*p) {
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';') {
      ++p;
    } else if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') ++p;
    } else if (p[0] == '/' && p[1] == '*') {
      p += 2;
      while (*p && !(p[0] == '*' && p[1] == '/')) ++p;
      if (*p) p += 2;
    } else {
      return false;
    }
  }
  return true;
}

int bind_value(sqlite3_stmt* stmt, int index, const Value& v) {
  switch (v.type) {
    case Value::Type::integer: return sqlite3_bind_int64(stmt, index, v.integer);
    case Value::Type::real: return sqlite3_bind_double(stmt, index, v.real);
    case Value::Type::text:
      // The parameters outlive the statement's use: bindings are cleared before query returns.
      return sqlite3_bind_text64(stmt, index, v.text.data(), v.text.size(), SQLITE_STATIC, SQLITE_UTF8);
    case Value::Type::null: break;
  }
  return sqlite3_bind_null(stmt, index);
}

Value column_value(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: return Value::of(static_cast<int64_t>(sqlite3_column_int64(stmt, col)));
    case SQLITE_FLOAT: return Value::of(sqlite3_column_double(stmt, col));
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      return Value::of(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, col))));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      return Value::of(std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, col))));
    }
    default: return Value::null_value();
  }
}

}  // namespace

Expected<std::unique_ptr<SqliteDatabase>> SqliteDatabase::open(const std::string& path) {
  sqlite3* db = nullptr;
  // No SQLITE_OPEN_CREATE: a mistyped path must not leave an empty database behind.
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error(DbError::open_failed,
                "cannot open SQLite database '" + path + "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return error;
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  std::unique_ptr<SqliteDatabase> database(new SqliteDatabase(db));
  // Opening reads nothing: read the schema now so a file that is not a database is reported
  // at startup rather than on the first lookup.
  if (auto schema = database->query("SELECT count(*) FROM sqlite_master", {}); !schema)
    return Error(DbError::open_failed, "cannot open SQLite database '" + path + "': " + schema.error().message());
  return database;
}

SqliteDatabase::~SqliteDatabase() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Expected<sqlite3_stmt*> SqliteDatabase::statement(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sql.size() > static_cast<size_t>(INT_MAX)) return Error(DbError::query_failed, "query too long");
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, &tail) != SQLITE_OK)
    return Error(DbError::query_failed, sqlite3_errmsg(db_));
  if (stmt == nullptr) return Error(DbError::query_failed, "empty query");
  // `tail` is where the first statement ended; `sql` need not be terminated, so what follows
  // is checked in a terminated copy.
  const std::string rest(tail, static_cast<size_t>(sql.data() + sql.size() - tail));
  if (!only_trailing_noise(rest.c_str())) {
    sqlite3_finalize(stmt);
    return Error(DbError::query_failed, "one statement per query");
  }
  if (statements_.size() >= kMaxStatements) {
    for (auto& [text, old] : statements_) sqlite3_finalize(old);
    statements_.clear();
  }
  statements_.emplace(std::string(sql), stmt);
  return stmt;
}

Status SqliteDatabase::bind(sqlite3_stmt* stmt, const std::vector<Param>& params) {
  const int count = sqlite3_bind_parameter_count(stmt);
  bool named = false, positional = false;
  for (int index = 1; index <= count; ++index) {
    const char* name = sqlite3_bind_parameter_name(stmt, index);
    const Param* p = nullptr;
    if (name == nullptr || name[0] == '?') {
      // "?" and "?N": the N-th parameter without a name (SQLite numbers "?" in order).
      positional = true;
      p = find_unnamed(params, index);
      if (p == nullptr) return Error(DbError::missing_parameter, "missing parameter: ?" + std::to_string(index));
    } else {
      named = true;  // ":name", also SQLite's "@name" and "$name"
      p = find_named(params, name + 1);
      if (p == nullptr) return Error(DbError::missing_parameter, std::string("missing parameter: ") + (name + 1));
    }
    if (named && positional)
      return Error(DbError::query_failed, "query mixes named (:name) and positional (?N) parameters");
    if (bind_value(stmt, index, p->value) != SQLITE_OK) return Error(DbError::query_failed, sqlite3_errmsg(db_));
  }
  return {};
}

Expected<Result> SqliteDatabase::query(std::string_view sql, const std::vector<Param>& params) {
  Expected<sqlite3_stmt*> prepared = statement(sql);
  if (!prepared) return std::move(prepared).error();
  sqlite3_stmt* stmt = *prepared;
  Result out;
  Status status = bind(stmt, params);
  if (status) {
    const int columns = sqlite3_column_count(stmt);
    for (int c = 0; c < columns; ++c) {
      const char* name = sqlite3_column_name(stmt, c);
      out.columns.emplace_back(name ? name : "");
    }
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = Error(DbError::query_failed, sqlite3_errmsg(db_));
        break;
      }
      std::vector<Value>& row = out.rows.emplace_back();
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) row.push_back(column_value(stmt, c));
    }
  }
  // Ready for the next use, and no pointer into `params` kept.
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (!status) return std::move(status).error();
  return out;
}

}  // namespace capstan::db
