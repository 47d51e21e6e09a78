// Where Redis is, as [cluster] redis writes it.
#pragma once

#include <string>
#include <string_view>

namespace capstan::cluster {

// "redis://host:port" or "host:port" (6379 when the port is left out).
struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
};
bool parse_redis_url(std::string_view url, RedisAddress& out);

}  // namespace capstan::cluster
