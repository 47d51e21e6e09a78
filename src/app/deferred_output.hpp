// Output owed to connections other than the one whose event is being handled: broadcasts,
// per-user sends, deliveries posted from other loops, sends from timers. It is gathered
// during the loop turn and each connection's share leaves in one sendmsg over its frames at
// the end of the turn, so a burst of N messages to M connections costs M sends, not N x M.
// A frame sent to many connections in a row is stored once (the fan-out case).
//
// The connection whose event is being handled keeps the cheaper path, the loop's cork buffer
// (loop_context.hpp): an echo costs one send and no copy beyond the cork.
//
// Each connection's entries form a chain (listed once, in owed_, whose index the connection
// keeps), so gathering them costs O(1) per entry: no sort, no hashing.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/byte_buffer.hpp"

namespace capstan::app {

class ConnectionImpl;

class DeferredOutput {
 public:
  // `header` then `data` as one frame (or raw bytes, with no header) for `c`, after whatever
  // `c` was already owed this turn. Marks `c` as owed (ConnectionImpl::deferred()).
  void add(ConnectionImpl* c, const uint8_t* header, size_t header_size, const char* data, size_t size);
  // The frame added last, for another connection too (a broadcast: no copy, no compare).
  // False when there is none any more (an early flush took it): then add() it again.
  bool add_again(ConnectionImpl* c) {
    if (!have_last_) return false;
    chain(c, last_offset_, last_size_, true);
    return true;
  }
  bool empty() const noexcept { return entries_.empty(); }
  // Bytes held: the owner flushes early past a bound, so a huge turn cannot grow it unbounded.
  size_t bytes() const noexcept { return bytes_.size(); }
  // What the owed connection in `slot` (its deferred_slot) is owed this turn, in bytes: it
  // counts against its send buffer.
  size_t owed_bytes(size_t slot) const noexcept { return owed_[slot].bytes; }

  // Hands each connection its frames, in the order they were added, as one iovec array
  // (`write(c, iov, count)`), then forgets them.
  template <class Write>
  void drain(Write&& write);
  // The same for one owed connection alone (its cap is near), in `slot`: the others keep
  // batching.
  template <class Write>
  void drain_one(ConnectionImpl* c, size_t slot, Write&& write);

 private:
  static constexpr size_t kEnd = SIZE_MAX;
  struct Entry {
    size_t offset;  // into bytes_
    size_t size;
    size_t next;    // the connection's next entry, or kEnd
  };
  struct Owed {
    ConnectionImpl* connection;  // null once drained alone
    size_t first;  // its first entry
    size_t last;   // its last entry: where the next one is chained
    size_t bytes;  // the sum of its entries
  };
  void chain(ConnectionImpl* c, size_t offset, size_t size, bool shared);
  void gather(const Owed& owed) {
    iov_.clear();
    for (size_t i = owed.first; i != kEnd; i = entries_[i].next)
      iov_.push_back({const_cast<char*>(bytes_.data()) + entries_[i].offset, entries_[i].size});
  }
  void reset();

  util::ByteBuffer bytes_;
  std::vector<Entry> entries_;
  std::vector<Owed> owed_;  // connections in the order they were first owed something
  std::vector<iovec> iov_;
  size_t last_offset_ = 0, last_size_ = 0;  // the frame stored last, for the fan-out case
  bool have_last_ = false;
  uint32_t small_turns_ = 0;  // turns in a row that used under a quarter of the memory kept
};

template <class Write>
void DeferredOutput::drain(Write&& write) {
  if (entries_.empty()) return;
  for (const Owed& owed : owed_) {
    if (!owed.connection) continue;
    gather(owed);
    write(owed.connection, iov_.data(), iov_.size());
  }
  reset();
}

template <class Write>
void DeferredOutput::drain_one(ConnectionImpl* c, size_t slot, Write&& write) {
  Owed& owed = owed_[slot];
  gather(owed);
  owed.connection = nullptr;  // the turn's drain skips it; what it is owed later is owed anew
  write(c, iov_.data(), iov_.size());
}

}  // namespace capstan::app
