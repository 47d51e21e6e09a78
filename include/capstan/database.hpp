// The user database as components see it: one connection, owned by one worker thread, that
// runs a parameterized query and returns rows of text and number values. A component reaches
// it only off the loop, in a job given to Component::offload or Connection::offload, which
// hands each job its worker's connection ([users] provider "sqlite" or "postgres").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capstan/error.hpp"

namespace capstan::db {

struct Value {
  enum class Type : uint8_t { null, integer, real, text };
  Type type = Type::null;
  int64_t integer = 0;
  double real = 0;
  std::string text;  // text, and the text form of anything the driver has no better type for

  static Value null_value() { return {}; }
  static Value of(int64_t v) { Value x; x.type = Type::integer; x.integer = v; return x; }
  static Value of(double v) { Value x; x.type = Type::real; x.real = v; return x; }
  static Value of(std::string v) { Value x; x.type = Type::text; x.text = std::move(v); return x; }
};

// A parameter: bound by name (":id" in the query, name "id") or, when the name is empty, by
// position (?1 / $1 is the first parameter without a name).
struct Param {
  std::string name;
  Value value;
};

struct Result {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

class Database {
 public:
  virtual ~Database() = default;
  // Runs `sql` with `params`: the rows, or a DbError (the connection is reopened on the next
  // call when it broke). A parameter the query names but `params` lacks is
  // DbError::missing_parameter, naming it.
  virtual Expected<Result> query(std::string_view sql, const std::vector<Param>& params) = 0;
  // The named parameters (":name") a query uses, in order of first appearance, without the
  // colon. Quoted strings and identifiers, comments (-- and nested /* */), PostgreSQL's
  // $$dollar quotes$$ and `::type` casts are not parameters.
  static std::vector<std::string> named_parameters(std::string_view sql);
};

}  // namespace capstan::db
