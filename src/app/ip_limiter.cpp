#include "app/ip_limiter.hpp"

#include <cstring>
#include <iterator>

namespace capstan::app {

bool IpLimiter::Key::operator==(const Key& o) const noexcept {
  return family == o.family && std::memcmp(bytes, o.bytes, sizeof bytes) == 0;
}

size_t IpLimiter::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t a, b;
  std::memcpy(&a, k.bytes, 8);
  std::memcpy(&b, k.bytes + 8, 8);
  return static_cast<size_t>((a * 0x9E3779B97F4A7C15ULL) ^ (b + k.family) * 0xC2B2AE3D27D4EB4FULL);
}

IpLimiter::Key IpLimiter::key_of(const net::CompactAddress& address) noexcept {
  const net::CompactAddress a = address.unmapped();
  Key k{};
  k.family = a.family;
  std::memcpy(k.bytes, a.bytes, sizeof k.bytes);
  return k;
}

void IpLimiter::configure(uint32_t max_per_ip, uint32_t rate_per_second, uint64_t now_ms) {
  const uint64_t now_us = now_ms * 1000;
  std::lock_guard lock(mutex_);
  max_per_ip_ = max_per_ip;
  if (rate_per_second == rate_per_second_) return;
  // A debt is tat - now microseconds: connections times the old interval. Kept in
  // microseconds, a client that used one of a slow rate's connections would owe a whole second
  // at a fast rate (refused though far under it), and a burst at a fast rate would be paid off
  // within a second at a slow one. Once per reload, over recent clients only.
  const uint64_t old_interval = rate_per_second_ ? 1'000'000 / rate_per_second_ : 0;
  const uint64_t new_interval = rate_per_second ? 1'000'000 / rate_per_second : 0;
  rate_per_second_ = rate_per_second;
  for (auto e = entries_.begin(); e != entries_.end();) {
    uint64_t& tat = e->second.tat_us;
    if (tat > now_us && old_interval && new_interval) tat = now_us + (tat - now_us) * new_interval / old_interval;
    else tat = 0;  // paid, or no rate before (nothing was counted) or now (nothing is owed)
    e = e->second.open == 0 && tat <= now_us ? entries_.erase(e) : std::next(e);
  }
  swept_size_ = entries_.size();
}

IpLimiter::Verdict IpLimiter::admit(const net::CompactAddress& address, uint64_t now_ms) {
  const uint64_t now_us = now_ms * 1000;
  std::lock_guard lock(mutex_);
  Entry& e = entries_[key_of(address)];
  if (e.open >= max_per_ip_) return Verdict::too_many;
  if (rate_per_second_) {
    // GCRA with a burst of one second's worth: each connection moves the theoretical
    // arrival time on by one interval; refused once it is more than a second ahead.
    const uint64_t interval = 1'000'000 / rate_per_second_;
    const uint64_t tolerance = interval * (rate_per_second_ - 1);
    const uint64_t tat = e.tat_us > now_us ? e.tat_us : now_us;
    if (tat - now_us > tolerance) {
      if (e.open == 0 && e.tat_us <= now_us) entries_.erase(key_of(address));
      return Verdict::too_fast;
    }
    e.tat_us = tat + interval;
  }
  ++e.open;
  return Verdict::admitted;
}

void IpLimiter::release(const net::CompactAddress& address, uint64_t now_ms) {
  const uint64_t now_us = now_ms * 1000;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_of(address));
  if (it == entries_.end()) return;
  if (it->second.open) --it->second.open;
  // Kept while the address owes rate: a client that connects and hangs up in a loop must
  // still meet connection_rate_per_ip.
  if (it->second.open == 0 && it->second.tat_us <= now_us) entries_.erase(it);
  // Addresses that left owing rate are swept out once the table has doubled since the last sweep.
  if (entries_.size() > 2 * swept_size_ + 64) {
    for (auto e = entries_.begin(); e != entries_.end();)
      e = e->second.open == 0 && e->second.tat_us <= now_us ? entries_.erase(e) : std::next(e);
    swept_size_ = entries_.size();
  }
}

size_t IpLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace capstan::app
