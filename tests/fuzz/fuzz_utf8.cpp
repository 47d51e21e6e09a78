// Utf8Validator on arbitrary bytes: fed whole, byte by byte and in seeded splits it must give
// the same verdict; byte by byte it fails exactly where the whole prefix up to that byte stops
// being valid (fail-fast, no later and no earlier).
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"
#include "ws/utf8.hpp"

using capstan::ws::Utf8Validator;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint32_t seed = data[0] | (uint32_t{data[1]} << 8);
  data += 2;
  size -= 2;

  Utf8Validator whole;
  const bool whole_fed = whole.feed(data, size);
  const bool whole_valid = whole_fed && whole.complete();
  FUZZ_CHECK(whole_valid == capstan::ws::is_valid_utf8(std::string_view(reinterpret_cast<const char*>(data), size)));

  // Byte by byte: remember where it failed.
  Utf8Validator bytes;
  size_t fail_at = size;
  for (size_t i = 0; i < size; ++i) {
    if (!bytes.feed(data + i, 1)) {
      fail_at = i;
      break;
    }
  }
  FUZZ_CHECK((fail_at == size) == whole_fed);
  if (fail_at == size) FUZZ_CHECK(bytes.complete() == whole.complete());
  if (fail_at < size) {
    // The prefix before the bad byte was acceptable, the prefix with it is not.
    Utf8Validator before, with;
    FUZZ_CHECK(before.feed(data, fail_at));
    FUZZ_CHECK(!with.feed(data, fail_at + 1));
  }

  // Random splits.
  Utf8Validator split;
  bool split_fed = true;
  size_t offset = 0;
  for (size_t n : capstan::fuzz::split_sizes(size, seed, 1 + seed % 23)) {
    if (!split.feed(data + offset, n)) {
      split_fed = false;
      break;
    }
    offset += n;
  }
  FUZZ_CHECK(split_fed == whole_fed);
  if (split_fed) FUZZ_CHECK(split.complete() == whole.complete());
  return 0;
}
