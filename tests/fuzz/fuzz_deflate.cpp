// The permessage-deflate path on arbitrary input: the extension offer parser (any header must
// give a clean verdict whose response re-negotiates to the same parameters) and the inflater
// (any bytes: no error, message_too_big or invalid_compressed_data, never more output than
// the limit, and a deflater's output always inflates back to its input).
#include <string>
#include <string_view>

#include "fuzz_common.hpp"
#include "ws/deflate_codec.hpp"
#include "ws/deflate_offer.hpp"

using namespace capstan::ws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  // Offers: the first line of the input.
  std::string_view header = input.substr(0, input.find('\n'));
  for (bool shared : {true, false}) {
    auto params = negotiate_deflate(header, DeflatePolicy{shared});
    if (params) {
      FUZZ_CHECK(params->server_max_window_bits >= 9 && params->server_max_window_bits <= 15);
      if (shared) FUZZ_CHECK(params->server_no_context_takeover && params->client_no_context_takeover);
      // Our own response, read back as an offer, must be acceptable with the same outcome.
      auto again = negotiate_deflate(deflate_response(*params), DeflatePolicy{shared});
      FUZZ_CHECK(again && again->server_max_window_bits == params->server_max_window_bits);
    }
  }

  // Inflating arbitrary bytes with a small limit.
  static Inflater inflater(15);
  std::string out;
  const size_t limit = 1 + (control & 0x3F) * 1024;
  const capstan::WsError r = inflater.inflate(input, out, limit, control & 0x80);
  FUZZ_CHECK(r == capstan::WsError{} || r == capstan::WsError::message_too_big || r == capstan::WsError::invalid_compressed_data);
  FUZZ_CHECK(out.size() <= limit + 1);
  if (r == capstan::WsError{}) FUZZ_CHECK(out.size() <= limit);

  // Round trip through a fresh deflater with the window size the control byte picks.
  const int bits = 9 + (control % 7);
  Deflater deflater(1, bits);
  Inflater fresh(15);
  std::string packed, unpacked;
  deflater.compress(input, packed, true);
  FUZZ_CHECK(fresh.inflate(packed, unpacked, input.size() + 1, true) == capstan::WsError{});
  FUZZ_CHECK(unpacked == input);
  return 0;
}
