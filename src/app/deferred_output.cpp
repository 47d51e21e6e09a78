#include "app/deferred_output.hpp"

#include <cstring>

#include "app/connection_impl.hpp"

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
  chain(c, last_offset_, total, same);
}

void DeferredOutput::chain(ConnectionImpl* c, size_t offset, size_t size, bool shared) {
  if (c->deferred()) {
    Owed& owed = owed_[c->deferred_slot];
    owed.bytes += size;
    Entry& tail = entries_[owed.last];
    // Consecutive frames of one connection, contiguous in bytes_: one iovec for both.
    if (!shared && tail.offset + tail.size == offset) {
      tail.size += size;
      return;
    }
    tail.next = owed.last = entries_.size();
  } else {
    c->set_deferred(true);
    c->deferred_slot = owed_.size();
    owed_.push_back({c, entries_.size(), entries_.size(), size});
  }
  entries_.push_back({offset, size, kEnd});
}

void DeferredOutput::reset() {
  // Turns as big as the last ones keep their memory: freeing it and growing it back every
  // turn cost a page fault per 4 KiB on every burst (a server that sends 100 messages to 1,000
  // connections per turn spent more time faulting than sending). What a spike grew is given
  // back once many turns in a row used less than a quarter of it.
  constexpr size_t kKeepBytes = 1 << 20, kKeepEntries = 1 << 16, kSmallTurnsBeforeShrink = 1024;
  const bool small = entries_.size() * 4 < entries_.capacity() && bytes_.size() * 4 < bytes_.capacity();
  small_turns_ = small ? small_turns_ + 1 : 0;
  entries_.clear();
  owed_.clear();
  have_last_ = false;
  if (small_turns_ < kSmallTurnsBeforeShrink) return bytes_.clear();
  small_turns_ = 0;
  if (bytes_.capacity() > kKeepBytes) bytes_.reset_capacity(kKeepBytes);
  else bytes_.clear();
  if (entries_.capacity() > kKeepEntries) std::vector<Entry>().swap(entries_);
  if (owed_.capacity() > kKeepEntries) std::vector<Owed>().swap(owed_);
}

}  // namespace capstan::app
