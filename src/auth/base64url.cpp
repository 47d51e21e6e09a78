// Base64url encoding and strict decoding, table driven.
#include "auth/base64url.hpp"

#include <array>
#include <cstdint>

namespace capstan::auth {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

uint8_t value_of(char c) noexcept { return kDecode[static_cast<unsigned char>(c)]; }

}  // namespace

bool is_base64url_text(std::string_view in) noexcept {
  for (char c : in)
    if (value_of(c) == kInvalid) return false;
  return true;
}

bool base64url_decode(std::string_view in, std::string& out) {
  const size_t tail = in.size() % 4;
  if (tail == 1) return false;  // 6 bits cannot make a byte
  out.resize(base64url_decoded_size(in.size()));
  char* dst = out.data();
  size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const uint32_t a = value_of(in[i]), b = value_of(in[i + 1]), c = value_of(in[i + 2]), d = value_of(in[i + 3]);
    if ((a | b | c | d) & 0xC0) return false;  // kInvalid has those bits, no sextet does
    const uint32_t n = a << 18 | b << 12 | c << 6 | d;
    *dst++ = static_cast<char>(n >> 16);
    *dst++ = static_cast<char>(n >> 8);
    *dst++ = static_cast<char>(n);
  }
  if (tail == 0) return true;
  const uint32_t a = value_of(in[i]), b = value_of(in[i + 1]);
  const uint32_t c = tail == 3 ? value_of(in[i + 2]) : 0;
  if ((a | b | c) & 0xC0) return false;
  // The bits past the last whole byte must be zero, else two texts would decode alike.
  if (tail == 2 ? (b & 0x0F) != 0 : (c & 0x03) != 0) return false;
  const uint32_t n = a << 18 | b << 12 | c << 6;
  *dst++ = static_cast<char>(n >> 16);
  if (tail == 3) *dst = static_cast<char>(n >> 8);
  return true;
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t n = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8 | p[i + 2];
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    const uint32_t n = uint32_t{p[i]} << 16 | (rest == 2 ? uint32_t{p[i + 1]} << 8 : 0);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    if (rest == 2) out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

}  // namespace capstan::auth
