#include "components/pubsub/bus_messages.hpp"

#include <charconv>

#include "components/pubsub/channel_names.hpp"

namespace capstan::pubsub {

namespace {

// The next space-separated word; false when there is none.
bool word(std::string_view& in, std::string_view& out) {
  if (in.empty()) return false;
  const size_t space = in.find(' ');
  out = in.substr(0, space);
  in = space == std::string_view::npos ? std::string_view{} : in.substr(space + 1);
  return !out.empty();
}

bool number(std::string_view& in, uint64_t& out) {
  std::string_view w;
  if (!word(in, w)) return false;
  auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), out);
  return ec == std::errc() && end == w.data() + w.size();
}

}  // namespace

std::optional<NumberedMessage> parse_numbered(std::string_view text) {
  if (!text.starts_with("N ")) return std::nullopt;
  text.remove_prefix(2);
  NumberedMessage m;
  if (!word(text, m.origin) || !number(text, m.request) || !number(text, m.offset) || m.offset == 0 || !word(text, m.epoch) ||
      !word(text, m.channel) || !channel_name_fault(m.channel).empty() || text.empty())
    return std::nullopt;
  m.message = text;
  return m;
}

std::optional<HistoryAnswer> parse_history_answer(std::string_view text) {
  if (!text.starts_with("R ")) return std::nullopt;
  const size_t nl = text.find('\n');
  std::string_view head = text.substr(2, nl == std::string_view::npos ? std::string_view::npos : nl - 2);
  HistoryAnswer a;
  std::string_view recovered;
  if (!number(head, a.request) || !number(head, a.offset) || !word(head, a.epoch) || !word(head, recovered) || !head.empty())
    return std::nullopt;
  if (recovered != "1" && recovered != "0" && recovered != "-") return std::nullopt;
  a.recovered = recovered == "1";
  for (size_t at = nl; at != std::string_view::npos;) {
    const size_t next = text.find('\n', at + 1);
    std::string_view line = text.substr(at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    HistoryAnswer::Entry e{};
    if (!number(line, e.offset) || line.empty()) return std::nullopt;
    e.message = line;
    a.entries.push_back(e);
    at = next;
  }
  return a;
}

}  // namespace capstan::pubsub
