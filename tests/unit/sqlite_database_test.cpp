// The SQLite driver on a temporary database file, and Database::named_parameters (the
// reading of quotes, comments and casts both drivers share).
#include "db/sqlite_database.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "db_test_support.hpp"

namespace capstan::db {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;

Param named(std::string name, Value v) { return Param{std::move(name), std::move(v)}; }
Param positional(Value v) { return Param{"", std::move(v)}; }

TEST(NamedParameters, InOrderOfFirstUse) {
  EXPECT_EQ(Database::named_parameters("SELECT :b, :a, :b, :a_1, :_x9"), (Names{"b", "a", "a_1", "_x9"}));
  EXPECT_EQ(Database::named_parameters("SELECT id FROM user WHERE email=:email"), Names{"email"});
  EXPECT_EQ(Database::named_parameters("INSERT INTO t VALUES(:id,:name)"), (Names{"id", "name"}));
  EXPECT_EQ(Database::named_parameters(""), Names{});
  EXPECT_EQ(Database::named_parameters("SELECT 1"), Names{});
}

TEST(NamedParameters, QuotesAreNotParameters) {
  EXPECT_EQ(Database::named_parameters("SELECT ':x', \"y:z\", `:w`, :real"), Names{"real"});
  EXPECT_EQ(Database::named_parameters("SELECT 'it''s :x', :y"), Names{"y"});
  EXPECT_EQ(Database::named_parameters("SELECT \"a\"\":b\", :c"), Names{"c"});
  // E'...' takes backslash escapes: \' does not end it. In a plain string it would.
  EXPECT_EQ(Database::named_parameters("SELECT E'\\' :x', :y"), Names{"y"});
  EXPECT_EQ(Database::named_parameters("SELECT '\\' :x '', :y"), (Names{"x", "y"}));
  // A word ending in E is not an E'' prefix.
  EXPECT_EQ(Database::named_parameters("SELECT nameE'\\' :x '"), Names{"x"});
  EXPECT_EQ(Database::named_parameters("SELECT ':x"), Names{}) << "unterminated: the rest is quoted";
}

TEST(NamedParameters, CommentsAreNotParameters) {
  EXPECT_EQ(Database::named_parameters("SELECT 1 -- :c\n, :e -- :f"), Names{"e"});
  EXPECT_EQ(Database::named_parameters("SELECT /* :d */ :e /* :f"), Names{"e"});
  // PostgreSQL nests block comments.
  EXPECT_EQ(Database::named_parameters("SELECT /* /* :x */ :y */ :z"), Names{"z"});
  EXPECT_EQ(Database::named_parameters("SELECT 1 - :a, 2 / :b"), (Names{"a", "b"}));
}

TEST(NamedParameters, CastsAreNotParameters) {
  EXPECT_EQ(Database::named_parameters("SELECT :id::int, x::text, :n::bigint[], '1'::date"), (Names{"id", "n"}));
  EXPECT_EQ(Database::named_parameters("SELECT a :: text, :b"), Names{"b"});
  EXPECT_EQ(Database::named_parameters("SELECT :1, : x, :"), Names{}) << "a name starts with a letter or _";
}

TEST(NamedParameters, DollarQuotesAreNotParameters) {
  EXPECT_EQ(Database::named_parameters("SELECT $$ :x $$, $tag$ :y $$ :w $tag$, :z"), Names{"z"});
  EXPECT_EQ(Database::named_parameters("SELECT $1, $2, a$1, :n"), Names{"n"});
  EXPECT_EQ(Database::named_parameters("SELECT $$ :x"), Names{}) << "unterminated";
  EXPECT_EQ(Database::named_parameters("SELECT $ :x"), Names{"x"}) << "a lone $ quotes nothing";
}

class SqliteDatabaseTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("capstan-sqlite-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "app.db").string();
    std::ofstream(path_).flush();  // SQLite takes an empty file as an empty database
    auto opened = SqliteDatabase::open(path_);
    ASSERT_TRUE(opened) << opened.error().message();
    db_ = *std::move(opened);
    exec("CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT NOT NULL)");
    exec("CREATE TABLE product (id INTEGER PRIMARY KEY, name TEXT, created_at TEXT DEFAULT (datetime('now')))");
    exec("INSERT INTO user (id, email) VALUES (1, 'ann@example.com'), (2, 'bob@example.com')");
  }
  void TearDown() override {
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result exec(std::string_view sql, const std::vector<Param>& params = {}) { return test::expect_rows(*db_, sql, params); }
  std::string fails(std::string_view sql, const std::vector<Param>& params = {}) {
    return test::expect_failure(*db_, sql, params);
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(SqliteDatabaseTest, MissingFileIsAnErrorNamingItAndIsNotCreated) {
  const std::string missing = (dir_ / "nope" / "missing.db").string();
  auto opened = SqliteDatabase::open(missing);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), DbError::open_failed);
  EXPECT_NE(opened.error().message().find(missing), std::string::npos) << opened.error().message();
  const std::string missing2 = (dir_ / "missing.db").string();
  auto opened2 = open_database("sqlite", missing2);
  ASSERT_FALSE(opened2);
  EXPECT_NE(opened2.error().message().find(missing2), std::string::npos) << opened2.error().message();
  EXPECT_FALSE(fs::exists(missing2));
}

TEST_F(SqliteDatabaseTest, NonDatabaseFileIsRefusedAtOpen) {
  const std::string junk = (dir_ / "junk.db").string();
  std::ofstream(junk) << std::string(4096, 'x');
  auto opened = SqliteDatabase::open(junk);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), DbError::open_failed);
  const std::string error = opened.error().message();
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
  EXPECT_NE(error.find(junk), std::string::npos) << error;
}

TEST_F(SqliteDatabaseTest, UnknownProvider) {
  auto mysql = open_database("mysql", path_);
  ASSERT_FALSE(mysql);
  EXPECT_EQ(mysql.error(), DbError::open_failed);
  EXPECT_NE(mysql.error().message().find("mysql"), std::string::npos);
  EXPECT_TRUE(open_database("sqlite", path_));
}

TEST_F(SqliteDatabaseTest, NamedParameters) {
  Result r = exec("SELECT id, email FROM user WHERE email = :email", {named("email", Value::of(std::string("bob@example.com")))});
  ASSERT_EQ(r.columns, (Names{"id", "email"}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].type, Value::Type::integer);
  EXPECT_EQ(r.rows[0][0].integer, 2);
  EXPECT_EQ(r.rows[0][1].text, "bob@example.com");
  // The same name twice, parameters the query does not use, and ':x' inside a string.
  r = exec("SELECT email, ':id' FROM user WHERE id = :id OR id = :id + 10 /* :other */",
           {named("unused", Value::of(int64_t{7})), named("id", Value::of(int64_t{1})), positional(Value::of(int64_t{2}))});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "ann@example.com");
  EXPECT_EQ(r.rows[0][1].text, ":id");
}

TEST_F(SqliteDatabaseTest, MissingParameterIsNamed) {
  EXPECT_EQ(fails("SELECT id FROM user WHERE email = :email AND id = :id", {named("id", Value::of(int64_t{1}))}),
            "missing parameter: email");
  EXPECT_EQ(fails("SELECT ?1, ?2", {positional(Value::of(int64_t{1}))}), "missing parameter: ?2");
}

TEST_F(SqliteDatabaseTest, PositionalParameters) {
  Result r = exec("SELECT ?2, ?1", {named("x", Value::of(int64_t{9})), positional(Value::of(std::string("a"))),
                                    positional(Value::of(std::string("b")))});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "b");
  EXPECT_EQ(r.rows[0][1].text, "a");
  r = exec("SELECT ?, ?", {positional(Value::of(int64_t{1})), positional(Value::of(int64_t{2}))});
  EXPECT_EQ(r.rows[0][1].integer, 2);
  EXPECT_NE(fails("SELECT :a, ?2", {named("a", Value::of(int64_t{1})), positional(Value::of(int64_t{1})),
                                    positional(Value::of(int64_t{2}))})
                .find("mixes"),
            std::string::npos);
}

TEST_F(SqliteDatabaseTest, ColumnAndParameterTypes) {
  exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)");
  exec("INSERT INTO t VALUES (:i, :r, :s, :b, :n)",
       {named("i", Value::of(int64_t{-9007199254740993})), named("r", Value::of(2.5)),
        named("s", Value::of(std::string("héllo"))), named("b", Value::of(std::string("x\0y", 3))),
        named("n", Value::null_value())});
  exec("UPDATE t SET b = CAST(b AS BLOB)");
  Result r = exec("SELECT i, r, s, b, n, typeof(b) FROM t");
  ASSERT_EQ(r.rows.size(), 1u);
  const auto& row = r.rows[0];
  EXPECT_EQ(row[0].type, Value::Type::integer);
  EXPECT_EQ(row[0].integer, -9007199254740993);
  EXPECT_EQ(row[1].type, Value::Type::real);
  EXPECT_EQ(row[1].real, 2.5);
  EXPECT_EQ(row[2].type, Value::Type::text);
  EXPECT_EQ(row[2].text, "héllo");
  EXPECT_EQ(row[3].type, Value::Type::text) << "a blob comes back as text";
  EXPECT_EQ(row[3].text, std::string("x\0y", 3));
  EXPECT_EQ(row[4].type, Value::Type::null);
  EXPECT_EQ(row[5].text, "blob");
}

TEST_F(SqliteDatabaseTest, NotFoundIsZeroRows) {
  Result r = exec("SELECT id, email FROM user WHERE email = :email", {named("email", Value::of(std::string("x@y")))});
  EXPECT_EQ(r.columns, (Names{"id", "email"}));
  EXPECT_TRUE(r.rows.empty());
}

TEST_F(SqliteDatabaseTest, WritesAndTimestamps) {
  Result r = exec("INSERT INTO product (name) VALUES (:name)", {named("name", Value::of(std::string("lamp")))});
  EXPECT_TRUE(r.columns.empty());
  EXPECT_TRUE(r.rows.empty());
  r = exec("SELECT name, created_at FROM product WHERE id = last_insert_rowid()");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "lamp");
  EXPECT_EQ(r.rows[0][1].text.size(), 19u) << r.rows[0][1].text;  // "YYYY-MM-DD HH:MM:SS"
}

TEST_F(SqliteDatabaseTest, StatementsArePreparedOncePerText) {
  const size_t before = db_->cached_statements();
  for (int64_t id = 1; id <= 5; ++id) exec("SELECT email FROM user WHERE id = :id", {named("id", Value::of(id))});
  EXPECT_EQ(db_->cached_statements(), before + 1);
  exec("SELECT email FROM user WHERE id = :id ", {named("id", Value::of(int64_t{1}))});
  EXPECT_EQ(db_->cached_statements(), before + 2);
  // A failed run leaves the cached statement reusable.
  fails("SELECT email FROM user WHERE id = :id", {});
  Result r = exec("SELECT email FROM user WHERE id = :id", {named("id", Value::of(int64_t{2}))});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0].text, "bob@example.com");
  // Many distinct texts do not grow the cache without bound.
  for (int k = 0; k < 200; ++k) exec("SELECT " + std::to_string(k));
  EXPECT_LE(db_->cached_statements(), 64u);
}

TEST_F(SqliteDatabaseTest, Errors) {
  EXPECT_NE(fails("SELEC 1").find("syntax error"), std::string::npos);
  EXPECT_NE(fails("SELECT * FROM nowhere").find("no such table"), std::string::npos);
  EXPECT_EQ(fails("SELECT 1; SELECT 2"), "one statement per query");
  EXPECT_EQ(fails("  -- nothing\n"), "empty query");
  EXPECT_NE(fails("INSERT INTO user (id, email) VALUES (1, 'dup')").find("UNIQUE"), std::string::npos);
  // Trailing semicolons and comments are fine.
  exec("SELECT 1; -- done\n /* really */ ;");
}

}  // namespace
}  // namespace capstan::db
