// What the database driver tests share: a query that must succeed, and one that must fail
// with the code its text implies.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "capstan/database.hpp"

namespace capstan::db::test {

inline Result expect_rows(Database& db, std::string_view sql, const std::vector<Param>& params) {
  Expected<Result> r = db.query(sql, params);
  EXPECT_TRUE(r) << sql << ": " << (r ? "" : r.error().message());
  return r ? *std::move(r) : Result{};
}

// The failure's text; its code is missing_parameter exactly when the text says so, else
// query_failed.
inline std::string expect_failure(Database& db, std::string_view sql, const std::vector<Param>& params) {
  Expected<Result> r = db.query(sql, params);
  EXPECT_FALSE(r) << sql;
  if (r) return {};
  const std::string error = r.error().message();
  const bool missing = r.error() == DbError::missing_parameter;
  EXPECT_EQ(missing, error.starts_with("missing parameter")) << error;
  if (!missing) {
    EXPECT_EQ(r.error(), DbError::query_failed) << error;
  }
  return error;
}

}  // namespace capstan::db::test
