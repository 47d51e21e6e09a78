// A component type's own route keys: how a type declares them (KeyDecl) and the checked,
// typed values the loader hands it in RouteConfig::keys (RouteKeys).
//
// The loader knows a route's generic keys (path, component, protocols, auth); every other key
// of a `[[routes]]` table belongs to the route's component type, which declares it
// (ComponentType::keys). The loader checks each against its declaration (unknown key, wrong
// type, out of range, not a choice: the same faults, key path and line as the built-in keys),
// and the generated reference lists the declarations per component.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/types.hpp"

namespace capstan {

// `tables`: an array of tables under the route (`[[routes.actions]]`), each checked against
// the declaration's `fields`.
enum class KeyType : uint8_t { string, string_list, string_or_list, integer, boolean, duration, size, choice, tables };

struct KeyDecl {
  std::string name;
  KeyType type = KeyType::string;
  std::string default_text;  // as it would be written in the file; shown in the reference
  std::string help;          // one line, for the reference
  // choice: the allowed spellings, in the order of the enum they map to (RouteKeys::choice).
  std::vector<std::string> choices;
  int64_t min = 0, max = INT64_MAX;  // integer, duration (ms), size (bytes)
  std::vector<KeyDecl> fields;       // tables: the keys of each table
};

struct RouteKeys;

// One value the file set, already checked against its declaration.
struct KeyValue {
  std::string text;               // string; choice: its spelling
  std::vector<std::string> list;  // string_list, string_or_list
  int64_t integer = 0;            // integer; choice: its index among the declared choices
  bool boolean = false;
  Duration duration{};
  uint64_t size = 0;
  std::vector<RouteKeys> tables;  // tables, in the file's order
  int line = 0;                   // where the file set it; not part of ==

  bool operator==(const KeyValue& other) const;
};

// The keys of one route (or one table of a `tables` key) that the file set, in the file's
// order. Readers take a fallback for a key the file leaves out, so a type's defaults stay in
// its own options struct (and a RouteConfig built in C++ needs no keys at all).
struct RouteKeys {
  struct Entry {
    std::string key;
    KeyValue value;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> entries;
  int line = 0;  // the table's own line ([[routes]] or [[routes.actions]]); not part of ==

  const KeyValue* find(std::string_view key) const noexcept;
  // Adds or replaces a key (a program building a RouteConfig in C++, the loader).
  void set(std::string key, KeyValue value);

  std::string text(std::string_view key, std::string_view fallback = {}) const;
  std::vector<std::string> list(std::string_view key) const;  // empty when unset
  int64_t integer(std::string_view key, int64_t fallback) const;
  bool boolean(std::string_view key, bool fallback) const;
  Duration duration(std::string_view key, Duration fallback) const;
  uint64_t size(std::string_view key, uint64_t fallback) const;
  template <class Enum>
  Enum choice(std::string_view key, Enum fallback) const {
    const KeyValue* v = find(key);
    return v ? static_cast<Enum>(v->integer) : fallback;
  }
  std::span<const RouteKeys> tables(std::string_view key) const;  // empty when unset
  // The key's line, or the table's when the file leaves the key out (for a type's faults).
  int line_of(std::string_view key) const noexcept;

  bool operator==(const RouteKeys& other) const { return entries == other.entries; }
};

}  // namespace capstan
