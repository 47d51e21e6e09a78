// What nodes send one another through Redis (cluster_bus): a kind ('T' a topic publication,
// 'M' a publication to members of a topic family), the sending node's id, then length-prefixed
// fields. Binary-safe:
// payloads may hold any byte. Decoding takes anything Redis hands over and refuses what no
// node wrote, without reading past it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capstan::cluster {

inline constexpr size_t kNodeIdSize = 16;

struct ClusterMessage {
  char kind = 0;               // 'T' or 'M'
  std::string_view node;       // kNodeIdSize bytes
  std::vector<std::string_view> fields;
};

// kind + node + each field (4-byte little-endian length, then the bytes).
std::string encode_message(char kind, std::string_view node, const std::vector<std::string_view>& fields);
// The message, its views into `in`; nullopt when it is none (short, a field running past the
// end, an unknown kind, or fewer than `min_fields` fields).
std::optional<ClusterMessage> decode_message(std::string_view in);

}  // namespace capstan::cluster
