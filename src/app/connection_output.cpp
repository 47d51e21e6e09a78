// Writing side of a connection: corked frames, the outbox the stream could not take yet,
// writability watched only while that outbox exists, and the send-buffer cap for slow readers.
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "app/connection_output.hpp"
#include "app/ws_session.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "net/syscalls.hpp"
#include "util/log.hpp"
#include "ws/frame_encoder.hpp"

namespace capstan::app {

void OutputPath::enter_draining(ConnectionImpl& c_) {
  if (c_.state_ == ConnectionImpl::State::closed || c_.state_ == ConnectionImpl::State::draining) return;
  c_.state_ = ConnectionImpl::State::draining;
  c_.handshake_.reset();  // a refused request's bytes are not needed for the last word
  c_.phase_start_ms_ = c_.now_ms();
  if (c_.ctx_.is_corked(&c_)) c_.ctx_.uncork();
  finish_drain_if_flushed(c_);
}

void OutputPath::finish_drain_if_flushed(ConnectionImpl& c_) {
  if (c_.state_ != ConnectionImpl::State::draining || c_.write_shut_ || c_.outbox_ || c_.deferred_ || c_.ctx_.is_corked(&c_)) return;
  // Our last word is with the kernel: half-close and wait for the peer to hang up.
  c_.stream_shutdown();
  c_.write_shut_ = true;
}

SendStatus OutputPath::send_message(ConnectionImpl& c_, std::string_view data, Opcode opcode) {
  if (c_.state_ != ConnectionImpl::State::open) return SendStatus::dropped;
  c_.route_->counters.sent(data.size());  // queued or not: a refused one closes the connection (1008)
  try {
    if (c_.compression_ && data.size() >= c_.ctx_.compression().threshold) {
      std::string_view packed = compress_message(c_, data);
      return queue_frame(c_, opcode, packed.data(), packed.size(), false, true);
    }
    return queue_frame(c_, opcode, data.data(), data.size(), false);
  } catch (const std::bad_alloc&) {
    // Out of memory for this connection's output: it ends, the sender and the loop go on.
    output_failed(c_);
    return SendStatus::dropped;
  }
}

SendStatus OutputPath::queue_frame(ConnectionImpl& c_, Opcode opcode, const char* data, size_t size, bool exempt_from_cap, bool rsv1) {
  const size_t cap = c_.ctx_.limits().send_buffer;
  uint8_t header[ws::kMaxHeaderSize];
  const size_t header_size = ws::encode_frame_header(header, opcode, size, true, rsv1);
  const size_t total = header_size + size;

  const size_t pending = pending_output(c_);
  if (!exempt_from_cap && pending + total > cap) {
    // The cap bounds what we hold, not what we send: let the kernel take what it can first,
    // so a big message to a reader that keeps up is never refused. What this connection was
    // owed earlier leaves first; every other connection keeps batching.
    if (c_.ctx_.is_corked(&c_)) c_.ctx_.uncork();
    if (c_.deferred_ && c_.state_ != ConnectionImpl::State::closed) c_.ctx_.flush_deferred_of(c_);
    if (c_.state_ == ConnectionImpl::State::closed) return SendStatus::dropped;
    const size_t held = c_.outbox_ ? c_.outbox_->pending() : 0;
    const iovec frame[2] = {{header, header_size}, {const_cast<char*>(data), size}};
    size_t written = 0;
    if (!c_.outbox_) {
      written = write_through(c_, frame);
      if (c_.state_ == ConnectionImpl::State::closed) return SendStatus::dropped;
      if (written == total) return SendStatus::sent;
    }
    if (held + total - written > cap) {
      // A reader this slow would make us hold unbounded memory: drop it (RFC 6455 1008). The
      // component hears of it after its call returns (a send never calls it back).
      c_.ctx_.metrics().send_buffer_overflow();
      WsSession::fail_while_sending(c_, WsError::send_buffer_full);
      return SendStatus::dropped;
    }
    keep_unsent(c_, frame, 2, written);
    return held + total - written > cap / 2 ? SendStatus::backpressure : SendStatus::sent;
  }
  if (c_.outbox_ && !c_.deferred_) {
    // The kernel refused earlier output: keep order by queueing behind it.
    c_.outbox_->data.append(reinterpret_cast<const char*>(header), header_size);
    c_.outbox_->data.append(data, size);
  } else if (util::ByteBuffer* cork = c_.ctx_.cork_for(&c_, c_.deferred_)) {
    cork->append(header, header_size);
    cork->append(data, size);
  } else {
    c_.ctx_.defer(&c_, header, header_size, data, size);  // the end of the turn sends it
  }
  return pending + total > cap / 2 ? SendStatus::backpressure : SendStatus::sent;
}

size_t OutputPath::write_through(ConnectionImpl& c_, const iovec (&frame)[2]) {
  const ssize_t n = c_.stream_write(frame, 2);
  if (n < 0) {
    c_.close_now();
    return 0;
  }
  return static_cast<size_t>(n);
}

void OutputPath::keep_unsent(ConnectionImpl& c_, const iovec* iov, size_t count, size_t written) {
  Outbox& box = c_.outbox_ ? *c_.outbox_ : make_outbox(c_);
  for (size_t i = 0, skip = written; i < count; ++i) {
    const size_t len = iov[i].iov_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    box.data.append(static_cast<const char*>(iov[i].iov_base) + skip, len - skip);
    skip = 0;
  }
  arm_writable(c_, true);
}

void OutputPath::queue_raw(ConnectionImpl& c_, const char* data, size_t size) {
  if (c_.outbox_ && !c_.deferred_) c_.outbox_->data.append(data, size);
  else if (util::ByteBuffer* cork = c_.ctx_.cork_for(&c_, c_.deferred_)) cork->append(data, size);
  else c_.ctx_.defer(&c_, nullptr, 0, data, size);
}

void OutputPath::write_out(ConnectionImpl& c_, const char* data, size_t size) {
  if (c_.state_ == ConnectionImpl::State::closed) return;
  size_t written = 0;
  if (!c_.outbox_) {
    const ssize_t n = c_.stream_send(data, size);
    if (n < 0) return c_.close_now();
    written = static_cast<size_t>(n);
  }
  if (written < size) {
    try {
      const iovec rest{const_cast<char*>(data), size};
      keep_unsent(c_, &rest, 1, written);
    } catch (const std::bad_alloc&) {
      return output_failed(c_);  // the turn's end called this: nobody above to tell
    }
  }
  finish_drain_if_flushed(c_);
}

void OutputPath::write_frames(ConnectionImpl& c_, const iovec* iov, size_t count) {
  c_.deferred_ = false;
  if (c_.state_ == ConnectionImpl::State::closed) return;
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += iov[i].iov_len;
  // Small frames leave faster as one contiguous buffer than as an iovec each: the kernel's
  // per-segment work outweighs a copy of a few KiB (fan-out, bursts of 10: measured).
  constexpr size_t kGatherMax = 16 * 1024;
  // One piece (a broadcast of one message per turn) goes as it is.
  if (count == 1 && total <= kGatherMax) return write_out(c_, static_cast<const char*>(iov[0].iov_base), total);
  if (count > 1 && total <= kGatherMax) {
    thread_local char gathered[kGatherMax];
    size_t at = 0;
    for (size_t i = 0; i < count; ++i) {
      std::memcpy(gathered + at, iov[i].iov_base, iov[i].iov_len);
      at += iov[i].iov_len;
    }
    return write_out(c_, gathered, total);
  }
  size_t written = 0;
  if (!c_.outbox_) {
    // All of it is written (or kept) before the draining half-close below.
    const ssize_t n = c_.stream_write(iov, count);
    if (n < 0) return c_.close_now();
    written = static_cast<size_t>(n);
  }
  if (written < total) {
    const size_t held = (c_.outbox_ ? c_.outbox_->pending() : 0) + total - written;
    if (held > c_.ctx_.limits().send_buffer && c_.state_ != ConnectionImpl::State::draining) {
      // A reader this slow would make us hold unbounded memory. The kernel may hold part of
      // a frame, so no close frame can follow cleanly: the connection is dropped.
      c_.ctx_.metrics().send_buffer_overflow();
      return c_.close_now();
    }
    try {
      keep_unsent(c_, iov, count, written);
    } catch (const std::bad_alloc&) {
      return output_failed(c_);
    }
  }
  finish_drain_if_flushed(c_);
}

void OutputPath::on_writable(ConnectionImpl& c_) {
  if (!c_.outbox_) {
    arm_writable(c_, false);
    // A transport that sent what it held (TLS records) stops watching writability.
    if (net::Transport* t = c_.own_transport(); t && t->take_interest_change() && c_.state_ != ConnectionImpl::State::closed)
      c_.update_interest();
    return;
  }
  Outbox& box = *c_.outbox_;
  const ssize_t n = c_.stream_send(box.data.data() + box.offset, box.pending());
  if (n < 0) return c_.close_now();
  box.offset += static_cast<size_t>(n);
  if (box.pending() == 0) {
    c_.outbox_.reset();
    arm_writable(c_, false);
    finish_drain_if_flushed(c_);
  } else if (box.offset > box.data.size() / 2) {
    box.data.erase(0, box.offset);  // keep the outbox from holding what was already sent
    box.offset = 0;
  }
}

void OutputPath::arm_writable(ConnectionImpl& c_, bool on) noexcept {
  if (c_.writable_armed_ == on || c_.state_ == ConnectionImpl::State::closed) return;
  c_.writable_armed_ = on;
  c_.update_interest();
}

Outbox& OutputPath::make_outbox(ConnectionImpl& c_) {
  net::check_output_allocation();
  c_.outbox_ = std::make_unique<Outbox>();
  return *c_.outbox_;
}

size_t OutputPath::send_to_many(LoopContext& loop, std::span<Connection* const> to, std::string_view data, Opcode opcode) {
  uint8_t header[ws::kMaxHeaderSize];
  const size_t header_size = ws::encode_frame_header(header, opcode, data.size(), true, false);
  const size_t total = header_size + data.size();
  const size_t cap = loop.limits().send_buffer;
  bool stored = false;  // the frame is the last one deferred: the next connections point at it
  size_t queued = 0;
  for (Connection* handle : to) {
    ConnectionImpl& c = static_cast<ConnectionImpl&>(*handle);
    if (c.state_ != ConnectionImpl::State::open) continue;
    // Open and not corked, so what it is owed is its outbox and this turn's deferred frames
    // (pending_output, spelled out: this runs once per recipient).
    const bool plain = !(c.compression_ && data.size() >= loop.compression().threshold) && !loop.is_corked(&c) &&
                       !(c.outbox_ && !c.deferred_) &&
                       (c.outbox_ ? c.outbox_->pending() : 0) + (c.deferred_ ? loop.deferred_bytes_at(c.deferred_slot) : 0) + total <= cap / 2;
    if (!plain) {
      if (send_message(c, data, opcode) != SendStatus::dropped) ++queued;
      stored = false;  // send_message may have deferred another frame (compressed) since
      continue;
    }
    c.route_->counters.sent(data.size());
    try {
      if (!stored || !loop.defer_again(&c)) loop.defer(&c, header, header_size, data.data(), data.size());
      stored = true;
    } catch (const std::bad_alloc&) {
      output_failed(c);
      stored = false;
      continue;
    }
    ++queued;
  }
  return queued;
}

void OutputPath::output_failed(ConnectionImpl& c_) noexcept {
  log::error("out of memory for a connection's output", {{"remote", c_.remote_address()}});
  c_.close_now();
}

size_t OutputPath::pending_output(const ConnectionImpl& c_) noexcept {
  // Everything the connection is owed: the outbox, the cork, and its deferred frames of this
  // turn (a closed connection's slot is its reap link: it is owed nothing any more).
  const bool owed = c_.deferred_ && c_.state_ != ConnectionImpl::State::closed;
  return (c_.outbox_ ? c_.outbox_->pending() : 0) + (c_.ctx_.is_corked(&c_) ? c_.ctx_.corked_size() : 0) +
         (owed ? c_.ctx_.deferred_bytes_at(c_.deferred_slot) : 0);
}

}  // namespace capstan::app
