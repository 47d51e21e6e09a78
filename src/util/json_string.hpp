// The one JSON string escaper, for every writer of JSON: logs, /status, state files, the CLI's
// --json output and the action protocol's replies. Quotes and backslashes are escaped, control
// characters become \b \f \n \r \t or \u00XX, everything else (UTF-8 included) is copied as is,
// in runs. `Out` is std::string or util::ByteBuffer (append(const char*, size_t), push_back).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace capstan::util {

namespace json_detail {
// For each byte: 0 to copy as is, else the character after the backslash ('u': \u00XX).
inline constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();
}  // namespace json_detail

// `value` escaped, without quotes. With `nested` the text is meant to sit inside a JSON string
// itself (the tutorial's `data`, a string holding JSON): every backslash the escaping writes is
// escaped once more, and so is an escaped quote or backslash ("a\"b" held in a string reads
// "a\\\"b").
template <class Out>
void append_json_escaped(Out& out, std::string_view value, bool nested = false) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* run = value.data();
  const char* const end = value.data() + value.size();
  for (const char* p = run; p != end; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    const char escape = json_detail::kEscape[c];
    if (escape == 0) continue;
    out.append(run, static_cast<size_t>(p - run));
    run = p + 1;
    if (nested) out.push_back('\\');
    out.push_back('\\');
    if (escape == 'u') {
      const char hex[] = {'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out.append(hex, sizeof hex);
    } else {
      if (nested && (escape == '"' || escape == '\\')) out.push_back('\\');
      out.push_back(escape);
    }
  }
  out.append(run, static_cast<size_t>(end - run));
}

// `value` as a JSON string literal, quotes included (nested: \"...\").
template <class Out>
void append_json_string(Out& out, std::string_view value, bool nested = false) {
  if (nested) out.push_back('\\');
  out.push_back('"');
  append_json_escaped(out, value, nested);
  if (nested) out.push_back('\\');
  out.push_back('"');
}

}  // namespace capstan::util
