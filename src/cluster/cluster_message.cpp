#include "cluster/cluster_message.hpp"

#include <cstdint>

namespace capstan::cluster {

std::string encode_message(char kind, std::string_view node, const std::vector<std::string_view>& fields) {
  std::string out;
  size_t size = 1 + node.size();
  for (std::string_view f : fields) size += 4 + f.size();
  out.reserve(size);
  out += kind;
  out += node;
  for (std::string_view f : fields) {
    const uint32_t n = static_cast<uint32_t>(f.size());
    const char len[4] = {static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
    out.append(len, 4).append(f);
  }
  return out;
}

std::optional<ClusterMessage> decode_message(std::string_view in) {
  if (in.size() < 1 + kNodeIdSize || (in[0] != 'T' && in[0] != 'M')) return std::nullopt;
  ClusterMessage m;
  m.kind = in[0];
  m.node = in.substr(1, kNodeIdSize);
  in.remove_prefix(1 + kNodeIdSize);
  while (!in.empty()) {
    if (in.size() < 4) return std::nullopt;
    const auto* b = reinterpret_cast<const unsigned char*>(in.data());
    const size_t n = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<size_t>(b[3]) << 24);
    if (in.size() - 4 < n) return std::nullopt;
    m.fields.push_back(in.substr(4, n));
    in.remove_prefix(4 + n);
  }
  // A topic publication has exactly topic, data and a one-byte opcode; a family's has family,
  // data and the opcode, then its member keys.
  if (m.fields.size() < 3 || m.fields[2].size() != 1) return std::nullopt;
  if (m.kind == 'T' && m.fields.size() != 3) return std::nullopt;
  return m;
}

}  // namespace capstan::cluster
