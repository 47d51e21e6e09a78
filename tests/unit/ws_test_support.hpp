// Helpers for the WebSocket unit tests: building client frames byte by byte (masked or not,
// with any length encoding), a handler that records what the decoder reports, and a driver
// that feeds a wire image whole, byte by byte or in random splits.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/types.hpp"
#include "ws/frame_decoder.hpp"

namespace capstan::ws::test {

// ---- Building frames -----------------------------------------------------------------------

inline constexpr uint8_t kRsv1 = 0x40;
inline constexpr uint8_t kRsv2 = 0x20;
inline constexpr uint8_t kRsv3 = 0x10;

enum class LengthForm { minimal, bits16, bits64 };

struct FrameSpec {
  uint8_t opcode = 0x1;
  std::string payload;
  bool fin = true;
  uint8_t rsv = 0;  // any of kRsv1 | kRsv2 | kRsv3
  bool masked = true;
  LengthForm length_form = LengthForm::minimal;
  std::optional<uint64_t> declared_length = std::nullopt;  // the header claims this instead of payload.size()
  std::array<uint8_t, 4> key = {0x37, 0xFA, 0x21, 0x3D};
};

// The frame as a client sends it: header, masking key, masked payload.
inline std::string build_frame(const FrameSpec& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | f.rsv | (f.opcode & 0x0F)));
  const uint64_t length = f.declared_length.value_or(f.payload.size());
  const uint8_t mask_bit = f.masked ? 0x80 : 0;
  LengthForm form = f.length_form;
  if (form == LengthForm::minimal) form = length < 126 ? LengthForm::minimal : length <= 0xFFFF ? LengthForm::bits16 : LengthForm::bits64;
  switch (form) {
    case LengthForm::minimal:
      out.push_back(static_cast<char>(mask_bit | length));
      break;
    case LengthForm::bits16:
      out.push_back(static_cast<char>(mask_bit | 126));
      out.push_back(static_cast<char>(length >> 8));
      out.push_back(static_cast<char>(length));
      break;
    case LengthForm::bits64:
      out.push_back(static_cast<char>(mask_bit | 127));
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(length >> (8 * i)));
      break;
  }
  if (f.masked) out.append(reinterpret_cast<const char*>(f.key.data()), 4);
  for (size_t i = 0; i < f.payload.size(); ++i)
    out.push_back(static_cast<char>(f.payload[i] ^ (f.masked ? f.key[i % 4] : 0)));
  return out;
}

inline std::string frame(uint8_t opcode, std::string_view payload, bool fin = true) {
  return build_frame({.opcode = opcode, .payload = std::string(payload), .fin = fin});
}
inline std::string text_frame(std::string_view payload, bool fin = true) { return frame(0x1, payload, fin); }
inline std::string binary_frame(std::string_view payload, bool fin = true) { return frame(0x2, payload, fin); }
inline std::string continuation(std::string_view payload, bool fin = true) { return frame(0x0, payload, fin); }
inline std::string ping(std::string_view payload = {}) { return frame(0x9, payload); }
inline std::string pong(std::string_view payload = {}) { return frame(0xA, payload); }

inline std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason);
  return p;
}
inline std::string close_frame(uint16_t code, std::string_view reason = {}) { return frame(0x8, close_payload(code, reason)); }

// ---- Recording events ----------------------------------------------------------------------

struct Event {
  enum class Kind { message, ping, pong, close };
  Kind kind = Kind::message;
  Opcode opcode = Opcode::continuation;  // messages only
  std::string data;                      // payload, or the close reason
  bool compressed = false;               // messages only
  uint16_t code = 0;                     // close only

  bool operator==(const Event&) const = default;

  static Event text(std::string_view d, bool compressed = false) { return {Kind::message, Opcode::text, std::string(d), compressed, 0}; }
  static Event binary(std::string_view d) { return {Kind::message, Opcode::binary, std::string(d), false, 0}; }
  static Event ping(std::string_view d = {}) { return {Kind::ping, Opcode::continuation, std::string(d), false, 0}; }
  static Event pong(std::string_view d = {}) { return {Kind::pong, Opcode::continuation, std::string(d), false, 0}; }
  static Event close(uint16_t code, std::string_view reason = {}) { return {Kind::close, Opcode::continuation, std::string(reason), false, code}; }
};

inline void PrintTo(const Event& e, std::ostream* os) {
  static const char* const kinds[] = {"message", "ping", "pong", "close"};
  *os << kinds[static_cast<int>(e.kind)];
  if (e.kind == Event::Kind::message) *os << "(op=" << int(e.opcode) << (e.compressed ? ",compressed" : "") << ")";
  if (e.kind == Event::Kind::close) *os << "(" << e.code << ")";
  // Long payloads are shown by their start only.
  constexpr size_t kShown = 48;
  *os << " " << testing::PrintToString(e.data.substr(0, kShown)) << (e.data.size() > kShown ? "..." : "") << " ["
      << e.data.size() << " bytes]";
}

// A DecodeHandler that records every event. It can be told to return false after a number of
// events, and it notes where each message payload lives relative to the buffer being fed.
struct Recorder {
  std::vector<Event> events = {};
  int stop_after = -1;  // return false from the n-th event (1-based); -1: never
  const char* chunk_begin = nullptr;  // the buffer of the feed in progress
  const char* chunk_end = nullptr;
  std::vector<bool> message_in_chunk = {};  // per message: payload view lies inside that buffer

  bool record(Event e) {
    events.push_back(std::move(e));
    return stop_after < 0 || static_cast<int>(events.size()) < stop_after;
  }
  bool on_message(Opcode op, std::string_view payload, bool compressed) {
    message_in_chunk.push_back(payload.data() >= chunk_begin && payload.data() + payload.size() <= chunk_end);
    return record({Event::Kind::message, op, std::string(payload), compressed, 0});
  }
  bool on_ping(std::string_view payload) { return record(Event::ping(payload)); }
  bool on_pong(std::string_view payload) { return record(Event::pong(payload)); }
  bool on_close(uint16_t code, std::string_view reason) { return record(Event::close(code, reason)); }
};
static_assert(DecodeHandler<Recorder>);

// ---- Feeding -------------------------------------------------------------------------------

// Where to cut a wire image into the pieces given to successive feeds.
using Cuts = std::vector<size_t>;  // piece sizes, summing to the wire size

inline Cuts whole(size_t size) { return size ? Cuts{size} : Cuts{}; }
inline Cuts byte_by_byte(size_t size) { return Cuts(size, 1); }
inline Cuts random_cuts(size_t size, uint32_t seed, size_t max_piece = 16) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> piece(1, max_piece);
  Cuts cuts;
  for (size_t left = size; left > 0;) {
    size_t n = std::min(left, piece(rng));
    cuts.push_back(n);
    left -= n;
  }
  return cuts;
}

struct Outcome {
  std::vector<Event> events = {};
  DecodeResult::Status status = DecodeResult::Status::ok;
  uint16_t close_code = 0;
  size_t consumed = 0;  // total over all feeds
  size_t fed = 0;       // bytes handed to the decoder when it stopped or failed (or all)
};

inline const char* status_name(DecodeResult::Status s) {
  switch (s) {
    case DecodeResult::Status::ok: return "ok";
    case DecodeResult::Status::stopped: return "stopped";
    case DecodeResult::Status::error: return "error";
  }
  return "?";
}

// Feeds `wire` in the given pieces, each in a buffer of its own (so a view that outlives its
// feed would be caught by ASan), until the decoder stops or fails.
inline Outcome decode(std::string_view wire, const Cuts& cuts, DecodeLimits limits = {}, Recorder recorder = {}) {
  FrameDecoder decoder;
  Outcome out;
  size_t offset = 0;
  for (size_t n : cuts) {
    std::vector<uint8_t> piece(wire.begin() + static_cast<std::ptrdiff_t>(offset), wire.begin() + static_cast<std::ptrdiff_t>(offset + n));
    offset += n;
    recorder.chunk_begin = reinterpret_cast<const char*>(piece.data());
    recorder.chunk_end = recorder.chunk_begin + piece.size();
    DecodeResult r = decoder.feed(piece.data(), piece.size(), limits, recorder);
    EXPECT_LE(r.consumed, n) << "a feed consumed more than it was given";
    out.consumed += r.consumed;
    out.fed = offset;
    out.status = r.status;
    out.close_code = capstan::close_code_of(r.error);
    if (r.status != DecodeResult::Status::ok) break;
    EXPECT_EQ(r.consumed, n) << "status ok but not every byte consumed";
  }
  out.events = std::move(recorder.events);
  return out;
}

inline Outcome decode_whole(std::string_view wire, DecodeLimits limits = {}) { return decode(wire, whole(wire.size()), limits); }

// The split strategies every decoder expectation is checked under.
struct Split {
  std::string name;
  Cuts cuts;
};
inline std::vector<Split> all_splits(size_t size) {
  std::vector<Split> splits = {{"whole", whole(size)}, {"byte-by-byte", byte_by_byte(size)}};
  for (uint32_t seed : {1u, 2u, 3u, 42u, 1234u}) splits.push_back({"random seed " + std::to_string(seed), random_cuts(size, seed)});
  splits.push_back({"random large pieces", random_cuts(size, 99, 300)});
  return splits;
}

}  // namespace capstan::ws::test
