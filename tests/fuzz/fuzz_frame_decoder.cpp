// FrameDecoder on arbitrary bytes. The first three bytes choose the limits (allow_rsv1, the
// message size cap) and how the rest is cut into feeds. The input is decoded whole and split;
// both must report the same events and end the same way. Along the way: consumed <= size,
// every delivered view lies in the fed buffer or in memory the decoder owns (ASan checks the
// read), close codes and text payloads are valid, no message exceeds the cap.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "ws/frame_decoder.hpp"
#include "ws/utf8.hpp"

namespace {

using capstan::Opcode;
using capstan::ws::DecodeLimits;
using capstan::ws::DecodeResult;
using capstan::ws::FrameDecoder;

struct Event {
  int kind;  // 0 message, 1 ping, 2 pong, 3 close
  int opcode;
  bool compressed;
  uint16_t code;
  std::string data;
  bool operator==(const Event&) const = default;
};

struct Recorder {
  const DecodeLimits* limits = nullptr;
  const uint8_t* chunk = nullptr;
  size_t chunk_size = 0;
  std::vector<Event> events;

  void check_view(std::string_view v) const {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    const bool inside = p >= chunk && p + v.size() <= chunk + chunk_size;
    const bool disjoint = p + v.size() <= chunk || p >= chunk + chunk_size;
    FUZZ_CHECK(inside || disjoint);  // never straddles the fed buffer
  }
  bool on_message(Opcode op, std::string_view payload, bool compressed) {
    check_view(payload);
    FUZZ_CHECK(op == Opcode::text || op == Opcode::binary);
    FUZZ_CHECK(payload.size() <= limits->max_message_size);
    FUZZ_CHECK(!compressed || limits->allow_rsv1);
    if (op == Opcode::text && !compressed) FUZZ_CHECK(capstan::ws::is_valid_utf8(payload));
    events.push_back({0, static_cast<int>(op), compressed, 0, std::string(payload)});  // the copy reads every byte
    return true;
  }
  bool on_ping(std::string_view payload) {
    check_view(payload);
    FUZZ_CHECK(payload.size() <= 125);
    events.push_back({1, 0, false, 0, std::string(payload)});
    return true;
  }
  bool on_pong(std::string_view payload) {
    check_view(payload);
    FUZZ_CHECK(payload.size() <= 125);
    events.push_back({2, 0, false, 0, std::string(payload)});
    return true;
  }
  bool on_close(uint16_t code, std::string_view reason) {
    check_view(reason);
    FUZZ_CHECK(code == 1005 || capstan::ws::is_valid_close_code(code));
    FUZZ_CHECK(reason.size() <= 123);
    FUZZ_CHECK(capstan::ws::is_valid_utf8(reason));
    if (code == 1005) FUZZ_CHECK(reason.empty());
    events.push_back({3, 0, false, code, std::string(reason)});
    return true;
  }
};

struct Outcome {
  std::vector<Event> events;
  DecodeResult::Status status = DecodeResult::Status::ok;
  uint16_t close_code = 0;
  size_t consumed = 0;
};

Outcome run(const uint8_t* data, size_t size, const std::vector<size_t>& pieces, const DecodeLimits& limits) {
  FrameDecoder decoder;
  Recorder rec;
  rec.limits = &limits;
  Outcome out;
  size_t offset = 0;
  for (size_t n : pieces) {
    // A fresh heap copy per feed: the decoder unmasks in place, and a view kept past its feed
    // would be a use-after-free that ASan reports.
    std::vector<uint8_t> piece(data + offset, data + offset + n);
    offset += n;
    rec.chunk = piece.data();
    rec.chunk_size = piece.size();
    DecodeResult r = decoder.feed(piece.data(), piece.size(), limits, rec);
    FUZZ_CHECK(r.consumed <= n);
    out.consumed += r.consumed;
    out.status = r.status;
    out.close_code = capstan::close_code_of(r.error);
    if (r.status == DecodeResult::Status::error) {
      FUZZ_CHECK(out.close_code == 1002 || out.close_code == 1007 || out.close_code == 1009);
      // A failed decoder stays failed.
      uint8_t more[2] = {0x81, 0x80};
      DecodeResult again = decoder.feed(more, sizeof more, limits, rec);
      FUZZ_CHECK(again.status == DecodeResult::Status::error && again.consumed == 0);
      break;
    }
    if (r.status == DecodeResult::Status::stopped) break;
    FUZZ_CHECK(r.consumed == n);
  }
  if (out.status == DecodeResult::Status::ok) {
    FUZZ_CHECK(out.consumed == size);
    if (!decoder.mid_message()) FUZZ_CHECK(decoder.buffered_bytes() == 0);
  }
  out.events = std::move(rec.events);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  DecodeLimits limits;
  limits.allow_rsv1 = data[0] & 1;
  static constexpr uint64_t kCaps[] = {1 << 20, 0, 1, 125, 126, 200, 65535, 65536};
  limits.max_message_size = kCaps[(data[0] >> 1) & 7];
  const size_t max_piece = 1 + (data[0] >> 4) * 7;
  const uint32_t seed = data[1] | (uint32_t{data[2]} << 8);
  data += 3;
  size -= 3;

  const Outcome whole = run(data, size, size ? std::vector<size_t>{size} : std::vector<size_t>{}, limits);
  const Outcome split = run(data, size, capstan::fuzz::split_sizes(size, seed, max_piece), limits);
  const Outcome bytewise = run(data, size, std::vector<size_t>(size, 1), limits);
  for (const Outcome* o : {&split, &bytewise}) {
    FUZZ_CHECK(o->events == whole.events);
    FUZZ_CHECK(o->status == whole.status);
    FUZZ_CHECK(o->close_code == whole.close_code);
    if (whole.status != DecodeResult::Status::error) FUZZ_CHECK(o->consumed == whole.consumed);
  }
  return 0;
}
