// pubsub's texts on Redis (components/pubsub/bus_messages) and its channel patterns, on
// arbitrary bytes. Parsed parts lie inside the input; a numbered publication names a valid
// channel and an offset above 0. glob_matches agrees with a plain recursive matcher (on short
// inputs, where its exponential time does not matter) and a pattern matches itself with its
// stars taken as literal characters.
#include <string>
#include <string_view>

#include "components/pubsub/bus_messages.hpp"
#include "components/pubsub/channel_names.hpp"
#include "fuzz_common.hpp"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool reference_glob(std::string_view p, std::string_view n) {
  if (p.empty()) return n.empty();
  if (p[0] == '*') return reference_glob(p.substr(1), n) || (!n.empty() && reference_glob(p, n.substr(1)));
  return !n.empty() && p[0] == n[0] && reference_glob(p.substr(1), n.substr(1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace capstan::pubsub;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto m = parse_numbered(in)) {
    FUZZ_CHECK(m->offset > 0);
    FUZZ_CHECK(channel_name_fault(m->channel).empty());
    FUZZ_CHECK(inside(m->origin, in) && inside(m->epoch, in) && inside(m->channel, in) && inside(m->message, in));
  }
  if (auto a = parse_history_answer(in)) {
    FUZZ_CHECK(inside(a->epoch, in));
    for (const auto& e : a->entries) FUZZ_CHECK(inside(e.message, in) && !e.message.empty());
  }
  // Patterns: the input split at its first NUL into pattern and name.
  const size_t cut = in.find('\0');
  const std::string_view pattern = in.substr(0, cut);
  const std::string_view name = cut == std::string_view::npos ? std::string_view{} : in.substr(cut + 1);
  if (pattern.size() <= 12 && name.size() <= 16) FUZZ_CHECK(glob_matches(pattern, name) == reference_glob(pattern, name));
  else (void)glob_matches(pattern, name);
  FUZZ_CHECK(glob_matches(pattern, pattern));
  (void)channel_name_fault(in);
  (void)with_user_id(in, "42");
  return 0;
}
