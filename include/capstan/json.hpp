// JSON for components and endpoints: a read-only view of parsed JSON (Json), a parser that
// reuses its buffers (JsonParser), and a writer that builds JSON text, also as the content of
// a JSON string (the action protocol's `data` holding JSON), escaping as it goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "capstan/error.hpp"

namespace capstan {

namespace app {
struct JsonAccess;
}

// A read-only view of a parsed JSON value: valid as long as its document (the message being
// handled, or a JsonParser's last parse). Member lookups on anything but an object, and indexing past an array's end,
// give an absent value, so chains like data()["user"]["id"].as_int() need no checks.
class Json {
 public:
  enum class Type : uint8_t { absent, null, boolean, number, string, array, object };
  Type type() const noexcept;
  bool exists() const noexcept { return type() != Type::absent; }

  Json operator[](std::string_view key) const noexcept;
  Json operator[](size_t index) const noexcept;
  size_t size() const noexcept;  // elements of an array, members of an object, else 0

  std::optional<std::string_view> as_string() const noexcept;
  std::optional<int64_t> as_int() const noexcept;  // integers only, no truncation of 1.5
  std::optional<double> as_double() const noexcept;
  std::optional<bool> as_bool() const noexcept;
  // The value as compact JSON text ("" when absent).
  std::string dump() const;

 private:
  friend struct app::JsonAccess;
  alignas(8) unsigned char element_[16] = {};
  bool present_ = false;
};

// `value` as a JSON string literal, quotes included: for building replies by hand.
std::string json_quote(std::string_view value);

// Parses JSON text (simdjson, validating all of it). One parser per loop or per component
// instance: its buffers grow to the largest document seen and are reused.
class JsonParser {
 public:
  JsonParser();
  ~JsonParser();
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  // The document's root; it and every value reached from it stay valid until the next parse
  // with this parser. An Error (its message says where) when the text is not JSON.
  Expected<Json> parse(std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends JSON to `out`. With `in_string`, everything written is the content of a JSON string
// (the caller writes the quotes around it): {"action":"message","data":"{\"a\":1}"}.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out, bool in_string = false) noexcept : out_(out), in_string_(in_string) {}
  JsonWriter& string(std::string_view value);  // a quoted, escaped string
  JsonWriter& raw(std::string_view text);      // JSON text without strings in it: {, :, 1.5
  JsonWriter& value(const Json& value);        // compact JSON
  JsonWriter& integer(int64_t value);

 private:
  std::string& out_;
  bool in_string_;
};

}  // namespace capstan
