// permessage-deflate message codec on zlib (RFC 7692 §7.2): raw DEFLATE, one sync-flushed
// block run per message, the trailing 00 00 FF FF removed on send and restored on receive.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "capstan/error.hpp"

namespace capstan::ws {

class Deflater {
 public:
  Deflater(int level, int window_bits);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Compresses one message into `out` (replacing its contents). With `reset_after` the next
  // message starts with an empty window (no context takeover).
  void compress(std::string_view message, std::string& out, bool reset_after);

 private:
  z_stream zs_{};
};

class Inflater {
 public:
  explicit Inflater(int window_bits = 15);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates one message into `out` (replacing its contents), never producing more than
  // `limit` bytes: a deflate bomb stops at the limit, not at the end of memory. No error, or
  // WsError::message_too_big, or WsError::invalid_compressed_data.
  WsError inflate(std::string_view compressed, std::string& out, size_t limit, bool reset_after);

 private:
  WsError run(const unsigned char* data, size_t size, std::string& out, size_t& produced, size_t limit);
  z_stream zs_{};
};

}  // namespace capstan::ws
