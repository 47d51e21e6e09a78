#include "components/pubsub/channel_names.hpp"

namespace capstan::pubsub {

std::string_view channel_name_fault(std::string_view name) noexcept {
  if (name.empty()) return "channel: a name of 1 to 255 characters is required";
  if (name.size() > kMaxChannelName) return "channel: longer than 255 bytes";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7F) return "channel: printable ASCII without spaces only";
  }
  return {};
}

bool glob_matches(std::string_view pattern, std::string_view name) noexcept {
  // Iterative, with one backtrack point per `*`: linear for patterns with a single star and
  // never exponential, whatever a claim holds.
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string with_user_id(std::string_view pattern, std::string_view user_id) {
  std::string out;
  out.reserve(pattern.size() + user_id.size());
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, 4) == "{id}") {
      out += user_id;
      i += 4;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

}  // namespace capstan::pubsub
