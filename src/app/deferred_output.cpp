#include "app/deferred_output.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace capstan::app {

void DeferredOutput::add(ConnectionImpl* c, const uint8_t* header, size_t header_size, const char* data, size_t size) {
  const size_t total = header_size + size;
  // The same frame as the one before (a broadcast going round): point at it again.
  const bool same = have_last_ && last_size_ == total &&
                    std::memcmp(bytes_.data() + last_offset_, header, header_size) == 0 &&
                    (size == 0 || std::memcmp(bytes_.data() + last_offset_ + header_size, data, size) == 0);
  if (!same) {
    last_offset_ = bytes_.size();
    last_size_ = total;
    have_last_ = true;
    bytes_.append(header, header_size);
    bytes_.append(data, size);
  }
  // Consecutive frames of one connection are contiguous in bytes_: one iovec for both.
  if (!entries_.empty() && entries_.back().connection == c && entries_.back().offset + entries_.back().size == last_offset_ && !same) {
    entries_.back().size += total;
    return;
  }
  entries_.push_back({c, last_offset_, total});
}

void DeferredOutput::sort_by_connection() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return std::less<>()(a.connection, b.connection); });
}

void DeferredOutput::reset() {
  entries_.clear();
  have_last_ = false;
  // A huge turn's memory is given back rather than kept for the loop's life.
  constexpr size_t kKeepBytes = 1 << 20, kKeepEntries = 1 << 16;
  if (bytes_.capacity() > kKeepBytes) bytes_.reset_capacity(kKeepBytes);
  else bytes_.clear();
  if (entries_.capacity() > kKeepEntries) std::vector<Entry>().swap(entries_);
}

}  // namespace capstan::app
