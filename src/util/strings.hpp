// Small string helpers every layer uses (HTTP headers, tokens, extension offers), here so that
// no layer includes another's parser for them.
#pragma once

#include <cstddef>
#include <string_view>

namespace capstan::util {

// ASCII case-insensitive equality (header names, "Bearer", "JWT").
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// Without leading and trailing spaces and tabs (RFC 9110 §5.6.3 OWS).
inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `fn` with each trimmed element of a comma-separated list (RFC 9110 §5.6.1) until it
// returns true; returns whether it did.
template <class Fn>
bool find_in_list(std::string_view list, Fn&& fn) {
  while (true) {
    const size_t comma = list.find(',');
    if (fn(trim_ows(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace capstan::util
