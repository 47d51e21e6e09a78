// ws_client.hpp: the client side of RFC 6455 as pure functions, for capstan_loadgen.
// No I/O here: the load generator owns the sockets; these build requests and frames and
// check what comes back.
#pragma once

#include <openssl/evp.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ws_client {

inline std::string base64(const unsigned char* data, size_t len) {
    std::string out(4 * ((len + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, int(len));
    out.resize(n < 0 ? 0 : size_t(n));
    return out;
}

// Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2.
inline std::string expected_accept(const std::string& key) {
    const std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(s.data(), s.size(), md, &md_len, EVP_sha1(), nullptr)) return {};
    return base64(md, md_len);
}

// The upgrade request. It offers no Sec-WebSocket-Extensions, so compression can never be
// negotiated, whatever the server's configuration.
inline std::string handshake_request(const std::string& path, const std::string& host, int port,
                                     const std::string& key) {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
           "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

// Checks a response head (status line and headers, without the blank line). Returns an
// empty string if it is a correct 101 for a request with that accept value, else the fault.
inline std::string check_response(const std::string& head, const std::string& accept) {
    const std::string status = head.substr(0, head.find("\r\n"));
    if (status.rfind("HTTP/1.1 101", 0) != 0) return "handshake refused: \"" + status + "\"";
    std::string lower = head;
    for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.find("\r\nsec-websocket-extensions:") != std::string::npos)
        return "server negotiated an extension that was not offered";
    size_t p = lower.find("\r\nsec-websocket-accept:");
    if (p == std::string::npos) return "101 without Sec-WebSocket-Accept";
    p += 23;
    std::string value = head.substr(p, head.find("\r\n", p) - p);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    if (value != accept) return "wrong Sec-WebSocket-Accept \"" + value + "\"";
    return {};
}

// A server frame header (RFC 6455 5.2): server frames are never masked.
struct FrameHeader {
    enum Status { NeedMore, Ok, Masked } status = NeedMore;
    unsigned char b0 = 0;  // FIN, RSV and opcode
    size_t size = 0;       // header bytes
    uint64_t length = 0;   // payload bytes
};

inline FrameHeader parse_header(const unsigned char* b, size_t avail) {
    FrameHeader h;
    if (avail < 2) return h;
    if (b[1] & 0x80) {
        h.status = FrameHeader::Masked;
        return h;
    }
    h.b0 = b[0];
    h.size = 2;
    h.length = b[1] & 0x7f;
    if (h.length == 126) {
        h.size = 4;
        if (avail < h.size) return h;
        h.length = (uint64_t(b[2]) << 8) | b[3];
    } else if (h.length == 127) {
        h.size = 10;
        if (avail < h.size) return h;
        h.length = 0;
        for (int i = 2; i < 10; ++i) h.length = (h.length << 8) | b[i];
    }
    h.status = FrameHeader::Ok;
    return h;
}

// Writes one masked client frame (FIN/opcode byte b0) into out; returns its size.
inline size_t build_frame(std::string& out, unsigned char b0, std::string_view data,
                          uint32_t mask_key) {
    const size_t len = data.size();
    out.resize(14 + len);
    auto* f = reinterpret_cast<unsigned char*>(out.data());
    size_t h = 0;
    f[h++] = b0;
    if (len < 126) {
        f[h++] = uint8_t(0x80 | len);
    } else if (len <= 0xffff) {
        f[h++] = 0x80 | 126;
        f[h++] = uint8_t(len >> 8);
        f[h++] = uint8_t(len);
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i) f[h++] = uint8_t(uint64_t(len) >> (8 * i));
    }
    unsigned char key[4];
    std::memcpy(key, &mask_key, 4);
    std::memcpy(f + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; ++i) f[h + i] = uint8_t(data[i]) ^ key[i & 3];
    return h + len;
}

}  // namespace ws_client
