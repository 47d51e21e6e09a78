// The `shout` component: every text a client sends comes back in capitals (or as the route's
// `case` says) with `volume` exclamation marks; with `broadcast`, to everyone on the route, on
// every loop. A message over `max_length` closes the connection with 1009.
#pragma once

#include <capstan/capstan.hpp>

#include <cstdint>
#include <string>

namespace shout {

enum class Case : uint8_t { upper, lower, keep };  // the order of the `case` key's choices

// One route's settings; the defaults are the ones shout_type.cpp declares.
struct Options {
  int64_t volume = 1;
  Case letter_case = Case::upper;
  std::string greeting;  // sent on open when not empty
  uint64_t max_length = 1024;
  bool broadcast = false;
};

class Shout final : public capstan::Component {
 public:
  explicit Shout(Options options) : options_(std::move(options)) {}

  void on_open(capstan::Connection& c) override;
  void on_message(capstan::Connection& c, capstan::Message m) override;

 private:
  std::string shouted(std::string_view text) const;

  Options options_;
};

}  // namespace shout
