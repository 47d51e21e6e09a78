// Connections per client address, across all loops: how many are open (connections_per_ip)
// and how fast new ones come (connection_rate_per_ip, a GCRA bucket one second deep). One
// lock per accept and per close, never per message; addresses with nothing open and no rate
// debt are forgotten, so the table holds only recent clients. An IPv4 client is one address
// whether it came over IPv4 or as ::ffff:a.b.c.d on a dual-stack listener.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "net/socket_address.hpp"

namespace capstan::app {

class IpLimiter {
 public:
  enum class Verdict : uint8_t { admitted, too_many, too_fast };

  IpLimiter(uint32_t max_per_ip, uint32_t rate_per_second) noexcept
      : max_per_ip_(max_per_ip), rate_per_second_(rate_per_second) {}

  // New limits (a reload) at `now_ms`; connections already open stay. What each address owes
  // under the old rate is carried over as the same number of connections at the new rate; a
  // rate of 0 (no limit) forgets every debt.
  void configure(uint32_t max_per_ip, uint32_t rate_per_second, uint64_t now_ms);
  // A new connection from `address` at `now_ms`; when admitted, release() must follow.
  Verdict admit(const net::CompactAddress& address, uint64_t now_ms);
  void release(const net::CompactAddress& address, uint64_t now_ms);
  size_t tracked() const;  // addresses in the table (for tests)

 private:
  struct Key {
    uint8_t family;
    uint8_t bytes[16];
    bool operator==(const Key& o) const noexcept;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    uint32_t open = 0;
    uint64_t tat_us = 0;  // GCRA: when the bucket is empty again
  };
  static Key key_of(const net::CompactAddress& address) noexcept;

  uint32_t max_per_ip_;  // both guarded by mutex_
  uint32_t rate_per_second_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, Entry, KeyHash> entries_;
  size_t swept_size_ = 0;
};

}  // namespace capstan::app
