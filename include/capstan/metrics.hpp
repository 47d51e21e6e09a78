// Counters a component or endpoint adds to /metrics (Prometheus text format), beside the
// server's own: process-wide, made once at setup, counted from any loop with one relaxed
// atomic add (no lock, no allocation).
//
//   static capstan::Counter& refused = capstan::counter(
//       "capstan_pubsub_refused_total", "pubsub requests refused, by reason", {{"reason", "channel_limit"}});
//   refused.add();
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace capstan {

class Counter {
 public:
  void add(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// The counter `name` (a Prometheus metric name, ending in _total) with these labels, made on
// the first call and alive for the process; the same name and labels give the same counter.
// `help` is its one-line description (the first call's is kept). Call it at setup (a type's
// for_route, on_start) and keep the reference: it takes a lock.
Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});

// Every registered counter in Prometheus text format (what /metrics appends).
void append_registered_counters(std::string& out);

}  // namespace capstan
