// The decoder works on views and compares names without decoding them into a string: a
// lookup allocates only for the value it returns.
#include "capstan/form_urlencoded.hpp"

namespace capstan::form {

namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the byte of `s` at `i` as decoding sees it and moves `i` past it.
char next_byte(std::string_view s, size_t& i) noexcept {
  const char c = s[i];
  if (c == '+') {
    ++i;
    return ' ';
  }
  if (c == '%' && s.size() - i >= 3) {  // both digits inside the text
    const int hi = hex_digit(s[i + 1]);
    const int lo = hex_digit(s[i + 2]);
    if (hi >= 0 && lo >= 0) {
      i += 3;
      return static_cast<char>(hi * 16 + lo);
    }
  }
  ++i;  // a lone '%' stands for itself, as does every other byte
  return c;
}

bool decodes_to(std::string_view encoded, std::string_view name) noexcept {
  size_t i = 0, j = 0;
  while (i < encoded.size()) {
    if (j == name.size() || next_byte(encoded, i) != name[j]) return false;
    ++j;
  }
  return j == name.size();
}

}  // namespace

std::string decode(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());  // decoding only ever shortens
  for (size_t i = 0; i < encoded.size();) out.push_back(next_byte(encoded, i));
  return out;
}

namespace {

// Calls `fn(value)` for each pair named `name`, in order, until it returns false.
template <class Fn>
void each_named(std::string_view encoded, std::string_view name, Fn&& fn) {
  while (!encoded.empty()) {
    const size_t amp = encoded.find('&');
    const std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view{} : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (!decodes_to(key, name)) continue;
    if (!fn(eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1)))) return;
  }
}

}  // namespace

std::optional<std::string> find(std::string_view encoded, std::string_view name) {
  std::optional<std::string> found;
  each_named(encoded, name, [&](std::string value) {
    found = std::move(value);
    return false;
  });
  return found;
}

std::vector<std::string> find_all(std::string_view encoded, std::string_view name) {
  std::vector<std::string> values;
  each_named(encoded, name, [&](std::string value) {
    values.push_back(std::move(value));
    return true;
  });
  return values;
}

}  // namespace capstan::form
