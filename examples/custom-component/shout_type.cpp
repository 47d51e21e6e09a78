#include "shout_type.hpp"

#include <memory>
#include <string>

namespace shout {

std::vector<capstan::KeyDecl> ShoutType::keys() const {
  // Field by field: GCC 12 warns of missing initializers even for designated ones.
  std::vector<capstan::KeyDecl> keys(5);
  keys[0].name = "volume";
  keys[0].type = capstan::KeyType::integer;
  keys[0].default_text = "1";
  keys[0].help = "exclamation marks after each message";
  keys[0].min = 0;
  keys[0].max = 11;
  keys[1].name = "case";
  keys[1].type = capstan::KeyType::choice;
  keys[1].default_text = "\"upper\"";
  keys[1].help = "what the letters become";
  keys[1].choices = {"upper", "lower", "keep"};  // the order of enum Case
  keys[2].name = "greeting";
  keys[2].default_text = "\"\"";
  keys[2].help = "sent to each client when it connects; empty: nothing";
  keys[3].name = "max_length";
  keys[3].type = capstan::KeyType::size;
  keys[3].default_text = "\"1KiB\"";
  keys[3].help = "the longest message shouted; a longer one closes the connection with 1009";
  keys[3].min = 1;
  keys[3].max = 1 << 20;
  keys[4].name = "broadcast";
  keys[4].type = capstan::KeyType::boolean;
  keys[4].default_text = "false";
  keys[4].help = "shout to every client of the route, not only back to the sender";
  return keys;
}

std::vector<capstan::ConfigFault> ShoutType::check_keys(const capstan::RouteKeys& keys, const capstan::Config&) const {
  // A rule between two keys: the greeting obeys the limit the clients do.
  const Options o = options_of(keys);
  if (o.greeting.size() <= o.max_length) return {};
  capstan::ConfigFault fault;
  fault.code = capstan::ConfigError::invalid;
  fault.key = "greeting";  // relative to the route: the loader puts routes[N]. before it
  fault.line = keys.line_of("greeting");
  fault.message = "the greeting is longer than max_length (" + std::to_string(o.max_length) + " bytes)";
  return {fault};
}

capstan::Expected<capstan::ComponentFactory> ShoutType::for_route(const capstan::RouteConfig& route) {
  // Read once per route; every loop's instance gets a copy.
  Options options = options_of(route.keys);
  return capstan::ComponentFactory([options] { return std::make_unique<Shout>(options); });
}

Options options_of(const capstan::RouteKeys& keys) {
  Options o;
  o.volume = keys.integer("volume", o.volume);
  o.letter_case = keys.choice("case", o.letter_case);
  o.greeting = keys.text("greeting", o.greeting);
  o.max_length = keys.size("max_length", o.max_length);
  o.broadcast = keys.boolean("broadcast", o.broadcast);
  return o;
}

}  // namespace shout
