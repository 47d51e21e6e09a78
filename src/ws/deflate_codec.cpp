#include "ws/deflate_codec.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace capstan::ws {

namespace {
constexpr unsigned char kTail[4] = {0x00, 0x00, 0xFF, 0xFF};
}

Deflater::Deflater(int level, int window_bits) {
  // Negative window bits: raw DEFLATE, no zlib header (RFC 7692 §7.2.1).
  if (deflateInit2(&zs_, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
}

Deflater::~Deflater() { deflateEnd(&zs_); }

void Deflater::compress(std::string_view message, std::string& out, bool reset_after) {
  out.resize(std::max<size_t>(64, message.size() / 2 + 64));
  size_t produced = 0;
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  zs_.avail_in = static_cast<uInt>(message.size());
  do {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs_.avail_out = static_cast<uInt>(out.size() - produced);
    deflate(&zs_, Z_SYNC_FLUSH);
    produced = out.size() - zs_.avail_out;
  } while (zs_.avail_out == 0 || zs_.avail_in > 0);
  if (produced >= 4 && std::memcmp(out.data() + produced - 4, kTail, 4) == 0) produced -= 4;
  out.resize(produced);
  if (reset_after) deflateReset(&zs_);
}

Inflater::Inflater(int window_bits) {
  if (inflateInit2(&zs_, -window_bits) != Z_OK) throw std::bad_alloc();
}

Inflater::~Inflater() { inflateEnd(&zs_); }

WsError Inflater::run(const unsigned char* data, size_t size, std::string& out, size_t& produced,
                               size_t limit) {
  zs_.next_in = const_cast<Bytef*>(data);
  zs_.avail_in = static_cast<uInt>(size);
  while (true) {
    if (produced == out.size()) {
      // Grow geometrically, but never past limit + 1: one byte over is enough to know.
      size_t room = std::min(std::max<size_t>(out.size(), 4096), limit + 1 - produced);
      if (room == 0) return WsError::message_too_big;
      out.resize(produced + room);
    }
    zs_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs_.avail_out = static_cast<uInt>(out.size() - produced);
    int r = ::inflate(&zs_, Z_SYNC_FLUSH);
    produced = out.size() - zs_.avail_out;
    if (produced > limit) return WsError::message_too_big;
    if (r == Z_STREAM_END) {
      inflateReset(&zs_);  // a final block (BFINAL) ends the stream; the next message starts anew
      if (zs_.avail_in == 0) return WsError{};
      continue;
    }
    if (r != Z_OK && r != Z_BUF_ERROR) return WsError::invalid_compressed_data;
    if (zs_.avail_out == 0) continue;        // out of room: grow and go on
    if (zs_.avail_in == 0) return WsError{};  // all input consumed with room to spare
    if (r == Z_BUF_ERROR) return WsError::invalid_compressed_data;  // input left, room left, no progress
  }
}

WsError Inflater::inflate(std::string_view compressed, std::string& out, size_t limit, bool reset_after) {
  out.clear();
  size_t produced = 0;
  WsError r = run(reinterpret_cast<const unsigned char*>(compressed.data()), compressed.size(), out, produced, limit);
  if (r == WsError{}) r = run(kTail, sizeof kTail, out, produced, limit);
  out.resize(std::min(produced, out.size()));
  if (reset_after || r != WsError{}) inflateReset(&zs_);
  return r;
}

}  // namespace capstan::ws
