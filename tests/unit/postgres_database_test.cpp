// The PostgreSQL driver: the ":name" -> "$n" rewrite on its own (NamedParamRewrite), then
// against a real server (Postgres*). The server tests need CAPSTAN_TEST_POSTGRES, a libpq
// connection string: `scripts/postgres.sh start DIR` starts a throwaway server and prints
// one. Without it they fail rather than pass unseen; `ctest -E '^Postgres'` leaves them out.
#include "db/postgres_database.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "app/notify/relative_time.hpp"
#include "db_test_support.hpp"

namespace capstan::db {
namespace {

using Names = std::vector<std::string>;

Param named(std::string name, Value v) { return Param{std::move(name), std::move(v)}; }
Param positional(Value v) { return Param{"", std::move(v)}; }
Value text(const char* s) { return Value::of(std::string(s)); }
Value integer(int64_t n) { return Value::of(n); }

TEST(NamedParamRewrite, NamesBecomeNumbersSameNameSameNumber) {
  PositionalQuery q = to_positional("SELECT * FROM t WHERE a = :a AND b = :b OR a2 = :a");
  EXPECT_EQ(q.sql, "SELECT * FROM t WHERE a = $1 AND b = $2 OR a2 = $1");
  EXPECT_EQ(q.names, (Names{"a", "b"}));
  EXPECT_EQ(q.max_positional, 0);
}

TEST(NamedParamRewrite, QuotesCommentsCastsAndDollarQuotesAreKept) {
  PositionalQuery q = to_positional(
      "SELECT ':x', \"y:z\", E'\\':w', $$ :d $$, $f$ :e $f$, :id::int8, x::text -- :c\n/* :b */ , :n");
  EXPECT_EQ(q.sql, "SELECT ':x', \"y:z\", E'\\':w', $$ :d $$, $f$ :e $f$, $1::int8, x::text -- :c\n/* :b */ , $2");
  EXPECT_EQ(q.names, (Names{"id", "n"}));
}

TEST(NamedParamRewrite, PositionalQueriesPassThrough) {
  PositionalQuery q = to_positional("SELECT $2::text, $1, a$3, '$9'");
  EXPECT_EQ(q.sql, "SELECT $2::text, $1, a$3, '$9'");
  EXPECT_TRUE(q.names.empty());
  EXPECT_EQ(q.max_positional, 2);
  EXPECT_EQ(to_positional("SELECT $70000").max_positional, -1);
  EXPECT_EQ(to_positional("SELECT $99999999999999999999999").max_positional, -1);
  EXPECT_EQ(to_positional("").sql, "");
}

const char kHowTo[] =
    "CAPSTAN_TEST_POSTGRES is not set. These tests need a PostgreSQL server: run\n"
    "  export CAPSTAN_TEST_POSTGRES=\"$(scripts/postgres.sh start /tmp/capstan-pg)\"\n"
    "then the tests, then `scripts/postgres.sh stop /tmp/capstan-pg` (scripts/test.sh does all\n"
    "this), or leave these tests out with `ctest -E '^Postgres'`.";

std::string conninfo() {
  const char* c = std::getenv("CAPSTAN_TEST_POSTGRES");
  return c ? c : "";
}

class PostgresDatabaseTest : public testing::Test {
 protected:
  void SetUp() override {
    if (conninfo().empty()) FAIL() << kHowTo;
    db_ = open();
    ASSERT_NE(db_, nullptr);
    // Temporary tables: private to this connection, so tests run in parallel cannot collide.
    exec("SET TIME ZONE 'UTC'");
    exec("CREATE TEMP TABLE \"user\" (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE)");
    exec("CREATE TEMP TABLE product (id serial PRIMARY KEY, name text NOT NULL, price float8,"
         " created_at timestamp NOT NULL DEFAULT now())");
    exec("INSERT INTO \"user\" (email) VALUES ('ann@example.com'), ('bob@example.com')");
  }

  static std::unique_ptr<Database> open() {
    auto opened = open_database("postgres", conninfo());
    EXPECT_TRUE(opened) << opened.error().message();
    return opened ? *std::move(opened) : nullptr;
  }
  Result exec(std::string_view sql, const std::vector<Param>& params = {}, Database* db = nullptr) {
    return test::expect_rows(db ? *db : *db_, sql, params);
  }
  std::string fails(std::string_view sql, const std::vector<Param>& params = {}) {
    return test::expect_failure(*db_, sql, params);
  }
  int64_t backend_pid(Database* db = nullptr) {
    Result r = exec("SELECT pg_backend_pid()", {}, db);
    return r.rows.empty() ? -1 : r.rows[0][0].integer;
  }

  std::unique_ptr<Database> db_;
};

TEST(PostgresOpen, UnreachableServerIsReportedAtOpen) {
  auto opened = open_database("postgres", "host=127.0.0.1 port=1 dbname=x connect_timeout=2");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), DbError::open_failed);
  const std::string error = opened.error().message();
  EXPECT_NE(error.find("cannot connect to PostgreSQL"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST_F(PostgresDatabaseTest, NamedParametersAgainstTheServer) {
  Result r = exec(
      "SELECT id, email, ':email' AS lit, $$:email$$ AS dq, \"email\" AS ident -- :nope\n"
      "FROM \"user\" WHERE (email = :email OR email = upper(:email)) /* :nope2 */ AND id >= :min::int8",
      {named("unused", integer(1)), positional(integer(99)), named("email", text("bob@example.com")),
       named("min", integer(1))});
  EXPECT_EQ(r.columns, (Names{"id", "email", "lit", "dq", "ident"}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].type, Value::Type::integer);
  EXPECT_EQ(r.rows[0][0].integer, 2);
  EXPECT_EQ(r.rows[0][1].text, "bob@example.com");
  EXPECT_EQ(r.rows[0][2].text, ":email");
  EXPECT_EQ(r.rows[0][3].text, ":email");
  EXPECT_EQ(r.rows[0][4].text, "bob@example.com");
}

TEST_F(PostgresDatabaseTest, PositionalParameters) {
  Result r = exec("SELECT $2::text AS b, $1::int AS a",
                  {named("ignored", integer(0)), positional(integer(5)), positional(text("x")), positional(text("extra"))});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "x");
  EXPECT_EQ(r.rows[0][1].integer, 5);
  EXPECT_EQ(fails("SELECT $1::int, $2::int", {positional(integer(1))}), "missing parameter: $2");
  EXPECT_NE(fails("SELECT :a::int, $1::int", {named("a", integer(1)), positional(integer(1))}).find("mixes"),
            std::string::npos);
}

TEST_F(PostgresDatabaseTest, MissingParameterIsNamed) {
  EXPECT_EQ(fails("SELECT :a::int, :b::int", {named("a", integer(1))}), "missing parameter: b");
}

TEST_F(PostgresDatabaseTest, NotFoundIsZeroRows) {
  Result r = exec("SELECT id, email FROM \"user\" WHERE email = :email", {named("email", text("nobody@example.com"))});
  EXPECT_EQ(r.columns, (Names{"id", "email"}));
  EXPECT_TRUE(r.rows.empty());
}

TEST_F(PostgresDatabaseTest, ResultTypes) {
  Result r = exec(
      "SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::float8, 3.125::numeric, true, false, NULL,"
      " 'txt', '2026-11-21 10:00:00'::timestamp, '2026-11-21 10:00:00+00'::timestamptz,"
      " '{\"a\": 1}'::jsonb, 'NaN'::float8, '-9223372036854775808'::int8, 1e400::numeric");
  ASSERT_EQ(r.rows.size(), 1u);
  const auto& v = r.rows[0];
  ASSERT_EQ(v.size(), 16u);
  for (int k : {0, 1, 2}) {
    EXPECT_EQ(v[k].type, Value::Type::integer) << k;
    EXPECT_EQ(v[k].integer, k + 1);
  }
  EXPECT_EQ(v[3].type, Value::Type::real);
  EXPECT_EQ(v[3].real, 1.5);
  EXPECT_EQ(v[4].real, 2.25);
  EXPECT_EQ(v[5].type, Value::Type::real);
  EXPECT_EQ(v[5].real, 3.125);
  EXPECT_EQ(v[6].type, Value::Type::integer);
  EXPECT_EQ(v[6].integer, 1);
  EXPECT_EQ(v[7].integer, 0);
  EXPECT_EQ(v[8].type, Value::Type::null);
  EXPECT_EQ(v[9].type, Value::Type::text);
  EXPECT_EQ(v[9].text, "txt");
  EXPECT_EQ(v[10].text, "2026-11-21 10:00:00");
  EXPECT_EQ(v[11].text, "2026-11-21 10:00:00+00");
  EXPECT_EQ(v[12].text, "{\"a\": 1}");
  EXPECT_EQ(v[13].type, Value::Type::real);
  EXPECT_NE(v[13].real, v[13].real) << "NaN";
  EXPECT_EQ(v[14].integer, INT64_MIN);
  EXPECT_EQ(v[15].type, Value::Type::text) << "beyond double: the digits are kept";
  // Both timestamp forms are what the relative dates read.
  int64_t a = 0, b = 1;
  EXPECT_TRUE(app::parse_timestamp(v[10].text, a));
  EXPECT_TRUE(app::parse_timestamp(v[11].text, b));
  EXPECT_EQ(a, 1795255200);
  EXPECT_EQ(a, b);
}

TEST_F(PostgresDatabaseTest, ParameterTypesAreInferredByTheServer) {
  Result r = exec("INSERT INTO product (name, price, created_at) VALUES (:name, :price, :at) RETURNING id, price, created_at",
                  {named("name", text("lamp")), named("price", Value::of(19.99)), named("at", text("2026-11-21 10:00:00"))});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].type, Value::Type::integer);
  EXPECT_EQ(r.rows[0][1].real, 19.99);
  EXPECT_EQ(r.rows[0][2].text, "2026-11-21 10:00:00");
  r = exec("INSERT INTO product (name, price) VALUES (:name, :price) RETURNING price, created_at",
           {named("name", text("desk")), named("price", Value::null_value())});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].type, Value::Type::null);
  int64_t created = 0;
  EXPECT_TRUE(app::parse_timestamp(r.rows[0][1].text, created)) << r.rows[0][1].text;  // now(), with fraction
  r = exec("SELECT name FROM product WHERE id = :id", {named("id", integer(1))});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "lamp");
  r = exec("SELECT :big::int8 + 1, :neg::float8 * 2", {named("big", integer(INT64_MAX - 1)), named("neg", Value::of(-0.5))});
  EXPECT_EQ(r.rows[0][0].integer, INT64_MAX);
  EXPECT_EQ(r.rows[0][1].real, -1.0);
  r = exec("UPDATE product SET price = 1 WHERE name = :name", {named("name", text("nothing"))});
  EXPECT_TRUE(r.columns.empty());
}

TEST_F(PostgresDatabaseTest, StatementErrorsKeepTheConnection) {
  const int64_t pid = backend_pid();
  EXPECT_NE(fails("SELEC 1").find("syntax error"), std::string::npos);
  EXPECT_NE(fails("SELECT 1/0").find("division by zero"), std::string::npos);
  EXPECT_EQ(fails(""), "empty query");
  EXPECT_NE(fails("SELECT 1; SELECT 2").find("multiple commands"), std::string::npos);
  EXPECT_NE(fails("INSERT INTO \"user\" (email) VALUES (:e)", {named("e", text("ann@example.com"))}).find("duplicate key"),
            std::string::npos);
  EXPECT_NE(fails("COPY \"user\" FROM STDIN"), "");
  EXPECT_NE(fails("COPY \"user\" TO STDOUT"), "");
  EXPECT_EQ(backend_pid(), pid) << "a failed statement is not a broken connection";
}

TEST_F(PostgresDatabaseTest, ReconnectsAfterTheBackendIsTerminated) {
  const int64_t pid = backend_pid();
  ASSERT_GT(pid, 0);
  std::unique_ptr<Database> killer = open();
  ASSERT_NE(killer, nullptr);
  Result r = exec("SELECT pg_terminate_backend(:pid)", {named("pid", integer(pid))}, killer.get());
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].integer, 1);
  // pg_terminate_backend only signals: wait until the backend is gone.
  for (int k = 0; k < 250; ++k) {
    r = exec("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid", {named("pid", integer(pid))}, killer.get());
    if (!r.rows.empty() && r.rows[0][0].integer == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r = exec("SELECT :x::int + 1, pg_backend_pid()", {named("x", integer(41))});
  ASSERT_EQ(r.rows.size(), 1u) << "the query is retried on a new connection";
  EXPECT_EQ(r.rows[0][0].integer, 42);
  EXPECT_NE(r.rows[0][1].integer, pid);
  EXPECT_EQ(backend_pid(), r.rows[0][1].integer);
}

}  // namespace
}  // namespace capstan::db
