#include "shout.hpp"

#include <cctype>

namespace shout {

namespace {

// One topic per route: a process may serve several broadcasting routes of this type, and a
// factory serves all of them (see docs/writing-a-component.md, "State per route").
std::string topic_of(const capstan::Connection& c) { return "shout:" + std::string(c.path()); }

}  // namespace

void Shout::on_open(capstan::Connection& c) {
  if (options_.broadcast) topics().subscribe(c, topic_of(c));
  if (!options_.greeting.empty()) c.send_text(options_.greeting);
}

void Shout::on_message(capstan::Connection& c, capstan::Message m) {
  if (m.data.size() > options_.max_length) return c.close(capstan::close_code::message_too_big, "too long to shout");
  const std::string text = shouted(m.data);
  if (options_.broadcast) topics().publish(topic_of(c), text);  // this loop at once, the others by a post
  else c.send_text(text);
}

std::string Shout::shouted(std::string_view text) const {
  std::string out(text);
  for (char& ch : out) {
    const auto u = static_cast<unsigned char>(ch);  // bytes over 127 (UTF-8) stay as they are
    if (u < 128 && options_.letter_case == Case::upper) ch = static_cast<char>(std::toupper(u));
    if (u < 128 && options_.letter_case == Case::lower) ch = static_cast<char>(std::tolower(u));
  }
  out.append(static_cast<size_t>(options_.volume), '!');
  return out;
}

}  // namespace shout
