// The texts pubsub's Lua scripts PUBLISH on a route's Redis channels (pubsub_cluster.cpp):
//   "N <origin node> <request> <offset> <epoch> <channel> <message JSON>"   a numbered publication
//   "R <request> <offset> <epoch> <recovered 1|0|->" then "\n<offset> <message JSON>" per entry
//                                                                          a history's answer
// Anyone who can reach Redis can publish there too: parsing takes any bytes and refuses what
// the scripts did not write.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace capstan::pubsub {

struct NumberedMessage {
  std::string_view origin;
  uint64_t request = 0;
  uint64_t offset = 0;
  std::string_view epoch;
  std::string_view channel;
  std::string_view message;
};

struct HistoryAnswer {
  uint64_t request = 0;
  uint64_t offset = 0;
  std::string_view epoch;
  bool recovered = false;
  struct Entry {
    uint64_t offset;
    std::string_view message;
  };
  std::vector<Entry> entries;
};

std::optional<NumberedMessage> parse_numbered(std::string_view text);
std::optional<HistoryAnswer> parse_history_answer(std::string_view text);

}  // namespace capstan::pubsub
