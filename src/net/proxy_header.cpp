#include "net/proxy_header.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "net/address_set.hpp"

namespace capstan::net {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr size_t kV1Max = 107;  // the spec's worst case: "PROXY TCP6 " + two full IPv6 + ports + CRLF
constexpr char kV2SignatureBytes[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr std::string_view kV2Signature(kV2SignatureBytes, sizeof kV2SignatureBytes);
constexpr size_t kV2Fixed = 16;  // signature, version and command, family, length

ProxyHeader failed(ProxyHeaderError error) noexcept {
  ProxyHeader h;
  h.status = ProxyHeader::Status::error;
  h.error = error;
  return h;
}

// "0".."65535", decimal digits only.
bool parse_port(std::string_view text, uint16_t& out) noexcept {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  out = static_cast<uint16_t>(value);
  return true;
}

// Splits `line` at single spaces into exactly `n` fields; false for any other shape.
bool split_fields(std::string_view line, std::string_view* fields, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const size_t space = line.find(' ');
    if (i + 1 < n) {
      if (space == std::string_view::npos || space == 0) return false;
      fields[i] = line.substr(0, space);
      line.remove_prefix(space + 1);
    } else {
      if (space != std::string_view::npos || line.empty()) return false;
      fields[i] = line;
    }
  }
  return true;
}

// Version 1: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n" (section 2.1). Printable
// ASCII up to the CRLF: a byte that cannot be in the line fails at once, so every prefix of
// the input gets the verdict the whole gets (or `incomplete`).
ProxyHeader parse_v1(std::string_view bytes) noexcept {
  const std::string_view window = bytes.substr(0, kV1Max);
  size_t crlf = std::string_view::npos;
  for (size_t i = 0; i < window.size() && crlf == std::string_view::npos; ++i) {
    const char c = window[i];
    if (c == '\r') {
      if (i + 1 == window.size()) break;  // the \n may come next
      if (window[i + 1] != '\n') return failed(ProxyHeaderError::v1_malformed);
      crlf = i;
    } else if (c < 0x20 || c > 0x7E) {
      return failed(ProxyHeaderError::v1_malformed);
    }
  }
  if (crlf == std::string_view::npos)
    return bytes.size() >= kV1Max ? failed(ProxyHeaderError::v1_too_long) : ProxyHeader{};
  const std::string_view line = window.substr(kV1Prefix.size(), crlf - kV1Prefix.size());
  ProxyHeader h;
  h.status = ProxyHeader::Status::complete;
  h.size = crlf + 2;
  // UNKNOWN: the proxy could not tell (section 2.1 says to ignore the rest of the line).
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) return h;
  std::string_view f[5];
  if (!split_fields(line, f, 5)) return failed(ProxyHeaderError::v1_malformed);
  const bool v4 = f[0] == "TCP4";
  if (!v4 && f[0] != "TCP6") return failed(ProxyHeaderError::v1_malformed);
  auto address = [&](std::string_view text, CompactAddress& out) {
    const bool has_colon = text.find(':') != std::string_view::npos;
    return has_colon != v4 && parse_ip(text, out);  // TCP4 names IPv4 addresses, TCP6 IPv6 ones
  };
  if (!address(f[1], h.source) || !address(f[2], h.destination) || !parse_port(f[3], h.source.port) ||
      !parse_port(f[4], h.destination.port))
    return failed(ProxyHeaderError::v1_bad_address);
  h.has_source = true;
  return h;
}

uint16_t read_be16(const char* p) noexcept {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

// Version 2 (section 2.2): a 16-byte fixed part, then `length` bytes of addresses and TLVs.
ProxyHeader parse_v2(std::string_view bytes, size_t max_size) noexcept {
  if (bytes.size() < kV2Fixed) return {};
  const auto version_command = static_cast<uint8_t>(bytes[12]);
  const auto family = static_cast<uint8_t>(bytes[13]);
  const size_t length = read_be16(bytes.data() + 14);
  // Checked before waiting for the rest: a proxy that announces too much is refused at once.
  if ((version_command >> 4) != 2) return failed(ProxyHeaderError::v2_bad_version);
  const unsigned command = version_command & 0x0F;  // 0 LOCAL, 1 PROXY
  if (command > 1) return failed(ProxyHeaderError::v2_bad_command);
  if (kV2Fixed + length > max_size) return failed(ProxyHeaderError::too_large);
  // 0x11 TCP over IPv4, 0x21 TCP over IPv6; UNSPEC (0x00) and UNIX (0x31, 0x32) carry no
  // address we can use; UDP over a TCP connection makes no sense.
  const bool inet = family == 0x11, inet6 = family == 0x21;
  if (!inet && !inet6 && family != 0x00 && family != 0x31 && family != 0x32) return failed(ProxyHeaderError::v2_bad_family);
  const size_t needed = inet ? 12 : inet6 ? 36 : 0;
  if (length < needed) return failed(ProxyHeaderError::v2_short_addresses);
  if (bytes.size() < kV2Fixed + length) return {};
  ProxyHeader h;
  h.status = ProxyHeader::Status::complete;
  h.size = kV2Fixed + length;
  // LOCAL: the proxy's own connection (a health check); the receiver uses the real endpoints.
  if (command == 0 || needed == 0) return h;
  const char* a = bytes.data() + kV2Fixed;
  const size_t width = inet ? 4 : 16;
  h.source.family = h.destination.family = inet ? AF_INET : AF_INET6;
  std::memcpy(h.source.bytes, a, width);
  std::memcpy(h.destination.bytes, a + width, width);
  h.source.port = read_be16(a + 2 * width);
  h.destination.port = read_be16(a + 2 * width + 2);
  h.source = unmapped(h.source);
  h.destination = unmapped(h.destination);
  h.has_source = true;
  return h;  // TLVs (ALPN, authority, TLS details) are skipped: nothing here needs them
}

}  // namespace

ProxyHeader parse_proxy_header(std::string_view bytes, size_t max_size) noexcept {
  if (bytes.empty()) return {};
  // Whichever signature the first byte starts, every byte of it must match as it arrives,
  // so a peer that speaks something else is told at once, not after a timeout.
  const std::string_view signature = bytes[0] == 'P' ? kV1Prefix : kV2Signature;
  const size_t n = std::min(bytes.size(), signature.size());
  if (bytes.substr(0, n) != signature.substr(0, n)) return failed(ProxyHeaderError::not_a_proxy_header);
  if (bytes.size() < signature.size()) return {};
  return bytes[0] == 'P' ? parse_v1(bytes) : parse_v2(bytes, max_size);
}

std::string_view describe(ProxyHeaderError error) noexcept {
  switch (error) {
    case ProxyHeaderError::none: return "no error";
    case ProxyHeaderError::not_a_proxy_header: return "no PROXY protocol signature";
    case ProxyHeaderError::v1_too_long: return "PROXY v1 line longer than 107 bytes";
    case ProxyHeaderError::v1_malformed: return "malformed PROXY v1 line";
    case ProxyHeaderError::v1_bad_address: return "bad address or port in PROXY v1 line";
    case ProxyHeaderError::v2_bad_version: return "PROXY v2 header with a version other than 2";
    case ProxyHeaderError::v2_bad_command: return "PROXY v2 header with an unknown command";
    case ProxyHeaderError::v2_bad_family: return "PROXY v2 header with an unusable address family";
    case ProxyHeaderError::v2_short_addresses: return "PROXY v2 header shorter than its addresses";
    case ProxyHeaderError::too_large: return "PROXY v2 header larger than limits.max_header_size";
  }
  return "?";
}

}  // namespace capstan::net
