// What nodes send one another through Redis (cluster/cluster_message), on arbitrary bytes: a
// decoded message's fields lie inside the input, and encoding them again gives the input back
// byte for byte (so nothing was skipped or invented); a refused input never decodes later
// from a prefix that claims more.
#include <string>
#include <string_view>

#include "cluster/cluster_message.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace capstan::cluster;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto m = decode_message(in);
  if (!m) return 0;
  FUZZ_CHECK(m->kind == 'T' || m->kind == 'M');
  FUZZ_CHECK(m->node.size() == kNodeIdSize);
  for (std::string_view f : m->fields)
    FUZZ_CHECK(f.empty() || (f.data() >= in.data() && f.data() + f.size() <= in.data() + in.size()));
  FUZZ_CHECK(encode_message(m->kind, m->node, m->fields) == in);
  return 0;
}
