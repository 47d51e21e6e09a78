// PostgreSQL through libpq. Parameters go as text with no declared type (OID 0), so the
// server infers each from where it is used, and ":name" is rewritten to "$n" first. Result
// values take a number type from the column's type OID, text otherwise.
//
// A connection the server closed (restart, pg_terminate_backend, idle timeout) is only found
// out by the next query: that query is retried once on a reset connection. A connection
// closed while idle fails before the statement reaches a backend, so nothing runs twice; only
// a server lost in the middle of a statement could have committed a write that the retry
// then repeats.
#include "db/postgres_database.hpp"

#include <libpq-fe.h>

#include <charconv>

#include "util/log.hpp"

namespace capstan::db {

namespace {

// Type OIDs (pg_type.dat): these are fixed in every PostgreSQL release.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;
constexpr const char* kConnectTimeoutSeconds = "10";  // unless the connection string says otherwise

// libpq's messages end in a newline (several lines for some); one line for our errors.
std::string one_line(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s.empty() ? "unknown PostgreSQL error" : s;
}

// NOTICEs ("table does not exist, skipping") would go to stderr by default.
void drop_notice(void*, const char*) {}

std::string param_text(const Value& v) {
  switch (v.type) {
    case Value::Type::integer: return std::to_string(v.integer);
    case Value::Type::real: {
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.real);  // shortest exact form
      return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
    }
    case Value::Type::text: return v.text;
    case Value::Type::null: break;
  }
  return {};
}

Value result_value(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return Value::null_value();
  const char* text = PQgetvalue(res, row, col);
  const size_t size = static_cast<size_t>(PQgetlength(res, row, col));
  switch (PQftype(res, col)) {
    case kBool: return Value::of(int64_t{text[0] == 't'});
    case kInt2:
    case kInt4:
    case kInt8: {
      int64_t n = 0;
      const auto [end, ec] = std::from_chars(text, text + size, n);
      if (ec == std::errc{} && end == text + size) return Value::of(n);
      break;
    }
    case kFloat4:
    case kFloat8:
    case kNumeric: {
      double d = 0;
      const auto [end, ec] = std::from_chars(text, text + size, d);  // also "NaN", "Infinity"
      if (ec == std::errc{} && end == text + size) return Value::of(d);
      break;  // e.g. a numeric beyond double's range: keep its digits
    }
    default: break;
  }
  return Value::of(std::string(text, size));
}

// A COPY started by a query leaves the connection waiting for copy data: end it, so the
// connection serves the next query.
void abandon_copy(PGconn* conn, ExecStatusType status) {
  if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH) PQputCopyEnd(conn, "COPY is not supported");
  if (status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
    char* buffer = nullptr;
    while (PQgetCopyData(conn, &buffer, 0) > 0) PQfreemem(buffer);
  }
  while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
}

}  // namespace

Expected<std::unique_ptr<PostgresDatabase>> PostgresDatabase::open(const std::string& conninfo) {
  // Keywords are applied in order, so the connection string (expanded from "dbname") can
  // override the default connect timeout placed before it.
  const char* const keys[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {kConnectTimeoutSeconds, conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) return Error(DbError::open_failed, "cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // The connection string is left out: it may hold a password.
    Error error(DbError::open_failed, "cannot connect to PostgreSQL: " + one_line(PQerrorMessage(conn)));
    PQfinish(conn);
    return error;
  }
  PQsetNoticeProcessor(conn, drop_notice, nullptr);  // kept across PQreset
  return std::unique_ptr<PostgresDatabase>(new PostgresDatabase(conn));
}

PostgresDatabase::~PostgresDatabase() { PQfinish(conn_); }

Status PostgresDatabase::reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    return Error(DbError::unavailable, "PostgreSQL connection lost, reconnecting failed: " + one_line(PQerrorMessage(conn_)));
  log::warn("PostgreSQL connection was lost and is reconnected");
  return {};
}

Expected<Result> PostgresDatabase::query(std::string_view sql, const std::vector<Param>& params) {
  const PositionalQuery q = to_positional(sql);
  if (q.max_positional < 0)
    return Error(DbError::query_failed, "bad parameter number in query (PostgreSQL takes $1 to $65535)");
  if (!q.names.empty() && q.max_positional > 0)
    return Error(DbError::query_failed, "query mixes named (:name) and positional ($n) parameters");

  // Only the parameters the query uses: PostgreSQL cannot infer the type of an unused one.
  std::vector<const Param*> used;
  if (!q.names.empty()) {
    for (const std::string& name : q.names) {
      const Param* p = find_named(params, name);
      if (p == nullptr) return Error(DbError::missing_parameter, "missing parameter: " + name);
      used.push_back(p);
    }
  } else {
    for (int n = 1; n <= q.max_positional; ++n) {
      const Param* p = find_unnamed(params, n);
      if (p == nullptr) return Error(DbError::missing_parameter, "missing parameter: $" + std::to_string(n));
      used.push_back(p);
    }
  }
  std::vector<std::string> texts;
  texts.reserve(used.size());
  for (const Param* p : used) texts.push_back(param_text(p->value));
  std::vector<const char*> values(used.size(), nullptr);
  for (size_t k = 0; k < used.size(); ++k) {
    if (used[k]->value.type != Value::Type::null) values[k] = texts[k].c_str();
  }

  Error error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      if (Status reconnected = reconnect(); !reconnected) return std::move(reconnected).error();
    }
    PGresult* res = PQexecParams(conn_, q.sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0);
    const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      Result out;
      const int columns = PQnfields(res), rows = PQntuples(res);
      for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(res, c));
      out.rows.reserve(static_cast<size_t>(rows));
      for (int r = 0; r < rows; ++r) {
        std::vector<Value>& row = out.rows.emplace_back();
        row.reserve(static_cast<size_t>(columns));
        for (int c = 0; c < columns; ++c) row.push_back(result_value(res, r, c));
      }
      PQclear(res);
      return out;
    }
    if (status == PGRES_EMPTY_QUERY) {
      error = Error(DbError::query_failed, "empty query");
    } else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      abandon_copy(conn_, status);
      error = Error(DbError::query_failed, "COPY is not supported");
    } else {
      error = Error(DbError::query_failed, one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_)));
    }
    PQclear(res);
    // A live connection means the statement itself failed: no retry.
    if (PQstatus(conn_) == CONNECTION_OK) return error;
  }
  return error;
}

}  // namespace capstan::db
