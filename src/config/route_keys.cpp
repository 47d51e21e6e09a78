// RouteKeys' readers: a component type's checked keys, read with the type's own fallbacks.
#include "capstan/route_keys.hpp"

#include <algorithm>

namespace capstan {

// Lines say where a value came from, not what it is: a reload that only moved a key is no
// change of the route.
bool KeyValue::operator==(const KeyValue& o) const {
  return text == o.text && list == o.list && integer == o.integer && boolean == o.boolean && duration == o.duration &&
         size == o.size && tables == o.tables;
}

const KeyValue* RouteKeys::find(std::string_view key) const noexcept {
  auto it = std::find_if(entries.begin(), entries.end(), [key](const Entry& e) { return e.key == key; });
  return it == entries.end() ? nullptr : &it->value;
}

void RouteKeys::set(std::string key, KeyValue value) {
  for (Entry& e : entries)
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  entries.push_back({std::move(key), std::move(value)});
}

std::string RouteKeys::text(std::string_view key, std::string_view fallback) const {
  const KeyValue* v = find(key);
  return v ? v->text : std::string(fallback);
}

namespace {
// A value the file set, or the reader's fallback.
template <class T>
T value_or(const KeyValue* v, T KeyValue::*member, T fallback) {
  return v ? v->*member : fallback;
}
}  // namespace

std::vector<std::string> RouteKeys::list(std::string_view key) const { return value_or(find(key), &KeyValue::list, {}); }
int64_t RouteKeys::integer(std::string_view key, int64_t fallback) const { return value_or(find(key), &KeyValue::integer, fallback); }
bool RouteKeys::boolean(std::string_view key, bool fallback) const { return value_or(find(key), &KeyValue::boolean, fallback); }
Duration RouteKeys::duration(std::string_view key, Duration fallback) const { return value_or(find(key), &KeyValue::duration, fallback); }
uint64_t RouteKeys::size(std::string_view key, uint64_t fallback) const { return value_or(find(key), &KeyValue::size, fallback); }

std::span<const RouteKeys> RouteKeys::tables(std::string_view key) const {
  const KeyValue* v = find(key);
  return v ? std::span<const RouteKeys>(v->tables) : std::span<const RouteKeys>();
}

int RouteKeys::line_of(std::string_view key) const noexcept {
  const KeyValue* v = find(key);
  return v ? v->line : line;
}

}  // namespace capstan
