// application/x-www-form-urlencoded, as URL query strings and HTML form bodies use it
// (WHATWG URL, "application/x-www-form-urlencoded parsing"): `name=value` pairs joined by '&',
// where '+' stands for a space and %XX for the byte XX.
//
// Its own unit because the same text comes from two places: a connection's query string
// (Connection::query_param) and form-encoded request bodies (Mercure's publish requests).
//
// Malformed input never fails and never throws: a '%' not followed by two hex digits is kept
// as it is ("%", "%4", "%zz" decode to themselves), as browsers do. A decoded text may hold
// any byte, NUL ("%00") and invalid UTF-8 included: check it before using it as text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capstan::form {

// One name or value, decoded.
std::string decode(std::string_view encoded);

// The decoded value of the first pair in `encoded` (a query without its '?', or a body) whose
// decoded name is `name`, or nullopt when there is none. A pair without '=' ("?debug") has the
// empty value; empty pairs ("a=1&&b=2") are skipped. Later pairs of the same name are ignored.
std::optional<std::string> find(std::string_view encoded, std::string_view name);
// Every pair's value of that name, in order (Mercure sends one `topic` pair per topic).
std::vector<std::string> find_all(std::string_view encoded, std::string_view name);

}  // namespace capstan::form
