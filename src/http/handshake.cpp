#include "http/handshake.hpp"

#include <openssl/evp.h>

namespace capstan::http {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_of_16_bytes(std::string_view key) noexcept {
  // 16 bytes encode to 22 characters and "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i) {
    char c = key[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

UpgradeCheck check_upgrade(const Request& r) noexcept {
  UpgradeCheck out;
  if (!r.header_has_token("Upgrade", "websocket")) return out;
  out.kind = UpgradeCheck::Kind::invalid;
  if (r.method != "GET") {
    out.error = HttpError::upgrade_not_get;
  } else if (r.version_minor < 1) {
    out.error = HttpError::upgrade_not_http11;
  } else if (r.header("Host").empty()) {
    out.error = HttpError::missing_host;  // RFC 6455 §4.2.1 item 2, RFC 9112 §3.2
  } else if (!r.header_has_token("Connection", "upgrade")) {
    out.error = HttpError::connection_not_upgrade;
  } else if (r.header("Sec-WebSocket-Version") != "13") {
    out.error = HttpError::unsupported_ws_version;  // the response names the version we speak (RFC 6455 §4.4)
  } else if (!is_base64_of_16_bytes(r.header("Sec-WebSocket-Key"))) {
    out.error = HttpError::invalid_ws_key;
  } else {
    out.kind = UpgradeCheck::Kind::websocket;
    out.key = r.header("Sec-WebSocket-Key");
  }
  return out;
}

std::string accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + kGuid.size());
  input.append(key).append(kGuid);
  // Fetched once: EVP_sha1() makes EVP_Digest look the implementation up on every call, which
  // cost as much as the hash itself (~2,200 instructions per handshake). Kept for the process.
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_size, sha1, nullptr);
  unsigned char encoded[32];
  int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

std::string_view select_subprotocol(const Request& r, std::span<const std::string> supported) noexcept {
  for (size_t i = 0; i < r.header_count; ++i) {
    if (!iequals(r.headers[i].name, "Sec-WebSocket-Protocol")) continue;
    std::string_view chosen;
    auto supported_here = [&](std::string_view offered) {
      for (const std::string& s : supported)
        if (s == offered) chosen = offered;  // subprotocol names are case-sensitive
      return !chosen.empty();
    };
    if (find_in_list(r.headers[i].value, supported_here)) return chosen;
  }
  return {};
}

void append_switching_protocols(std::string& out, std::string_view accept, std::string_view protocol,
                                std::string_view extensions) {
  out.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: ");
  out.append(accept).append("\r\n");
  if (!protocol.empty()) out.append("Sec-WebSocket-Protocol: ").append(protocol).append("\r\n");
  if (!extensions.empty()) out.append("Sec-WebSocket-Extensions: ").append(extensions).append("\r\n");
  out.append("\r\n");
}

}  // namespace capstan::http
