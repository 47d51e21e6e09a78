#include "ws/deflate_offer.hpp"

#include "util/strings.hpp"

namespace capstan::ws {

namespace {

using util::trim_ows;

// Window bits as offered: digits 8..15, optionally quoted (a quoted-string is allowed, §7.1).
std::optional<uint8_t> parse_bits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2) return std::nullopt;
  unsigned n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return static_cast<uint8_t>(n);
}

std::optional<DeflateParams> accept_offer(std::string_view offer, const DeflatePolicy& policy) {
  size_t semi = offer.find(';');
  if (trim_ows(offer.substr(0, semi)) != "permessage-deflate") return std::nullopt;
  DeflateParams p;
  bool seen_server_nct = false, seen_client_nct = false, seen_server_bits = false, seen_client_bits = false;
  while (semi != std::string_view::npos) {
    offer.remove_prefix(semi + 1);
    semi = offer.find(';');
    std::string_view param = trim_ows(offer.substr(0, semi));
    size_t eq = param.find('=');
    std::string_view name = trim_ows(param.substr(0, eq));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = trim_ows(param.substr(eq + 1));
    if (name == "server_no_context_takeover") {
      if (seen_server_nct || value) return std::nullopt;
      seen_server_nct = p.server_no_context_takeover = true;
    } else if (name == "client_no_context_takeover") {
      if (seen_client_nct || value) return std::nullopt;
      seen_client_nct = p.client_no_context_takeover = true;
    } else if (name == "server_max_window_bits") {
      if (seen_server_bits || !value) return std::nullopt;
      auto bits = parse_bits(*value);
      if (!bits || *bits == 8) return std::nullopt;
      seen_server_bits = p.server_bits_offered = true;
      p.server_max_window_bits = *bits;
    } else if (name == "client_max_window_bits") {
      // The client says it can limit its window; our inflater takes any window up to 15,
      // so we never ask it to.
      if (seen_client_bits || (value && !parse_bits(*value))) return std::nullopt;
      seen_client_bits = true;
    } else {
      return std::nullopt;
    }
  }
  if (policy.force_no_context_takeover) p.server_no_context_takeover = p.client_no_context_takeover = true;
  return p;
}

}  // namespace

std::optional<DeflateParams> negotiate_deflate(std::string_view header, const DeflatePolicy& policy) {
  std::optional<DeflateParams> accepted;
  util::find_in_list(header, [&](std::string_view offer) { return (accepted = accept_offer(offer, policy)).has_value(); });
  return accepted;
}

std::string deflate_response(const DeflateParams& p) {
  std::string out = "permessage-deflate";
  if (p.server_no_context_takeover) out += "; server_no_context_takeover";
  if (p.client_no_context_takeover) out += "; client_no_context_takeover";
  if (p.server_bits_offered) out += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  return out;
}

}  // namespace capstan::ws
