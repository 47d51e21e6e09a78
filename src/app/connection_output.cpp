// Writing side of a connection: corked frames, the outbox the kernel could not take yet,
// EPOLLOUT only while that outbox exists, and the send-buffer cap for slow readers.
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <new>

#include "app/connection_impl.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "net/syscalls.hpp"
#include "util/log.hpp"
#include "ws/frame_encoder.hpp"

namespace capstan::app {

size_t ConnectionImpl::pending_output() const noexcept {
  return (outbox_ ? outbox_->pending() : 0) + (ctx_.is_corked(this) ? ctx_.corked_size() : 0);
}

SendStatus ConnectionImpl::send_message(std::string_view data, Opcode opcode) {
  if (state_ != State::open) return SendStatus::dropped;
  route_->counters.sent(data.size());  // queued or not: a refused one closes the connection (1008)
  try {
    if (compression_ && data.size() >= ctx_.compression().threshold) {
      std::string_view packed = compress_message(data);
      return queue_frame(opcode, packed.data(), packed.size(), false, true);
    }
    return queue_frame(opcode, data.data(), data.size(), false);
  } catch (const std::bad_alloc&) {
    // Out of memory for this connection's output: it ends, the sender and the loop go on.
    output_failed();
    return SendStatus::dropped;
  }
}

void ConnectionImpl::output_failed() noexcept {
  log::error("out of memory for a connection's output", {{"remote", remote_address()}});
  close_now();
}

Outbox& ConnectionImpl::make_outbox() {
  net::check_output_allocation();
  outbox_ = std::make_unique<Outbox>();
  return *outbox_;
}

SendStatus ConnectionImpl::queue_frame(Opcode opcode, const char* data, size_t size, bool exempt_from_cap, bool rsv1) {
  const size_t cap = ctx_.limits().send_buffer;
  uint8_t header[ws::kMaxHeaderSize];
  const size_t header_size = ws::encode_frame_header(header, opcode, size, true, rsv1);
  const size_t total = header_size + size;

  const size_t pending = pending_output();
  if (!exempt_from_cap && pending + total > cap) {
    // The cap bounds what we hold, not what we send: let the kernel take what it can first,
    // so a big message to a reader that keeps up is never refused. What this connection was
    // owed earlier leaves first.
    if (ctx_.is_corked(this)) ctx_.uncork();
    if (deferred_) ctx_.flush_deferred();
    if (state_ == State::closed) return SendStatus::dropped;
    const size_t held = outbox_ ? outbox_->pending() : 0;
    size_t written = 0;
    if (!outbox_) {
      written = write_through(header, header_size, data, size);
      if (state_ == State::closed) return SendStatus::dropped;
      if (written == total) return SendStatus::sent;
    }
    if (held + total - written > cap) {
      // A reader this slow would make us hold unbounded memory: drop it (RFC 6455 1008).
      ctx_.metrics().send_buffer_overflow();
      fail(close_code::policy_violation, "send buffer full");
      return SendStatus::dropped;
    }
    queue_unsent(header, header_size, data, size, written);
    return held + total - written > cap / 2 ? SendStatus::backpressure : SendStatus::sent;
  }
  if (outbox_ && !deferred_) {
    // The kernel refused earlier output: keep order by queueing behind it.
    outbox_->data.append(reinterpret_cast<const char*>(header), header_size);
    outbox_->data.append(data, size);
  } else if (util::ByteBuffer* cork = ctx_.cork_for(this, deferred_)) {
    cork->append(header, header_size);
    cork->append(data, size);
  } else {
    ctx_.defer(this, header, header_size, data, size);  // the end of the turn sends it
  }
  return pending + total > cap / 2 ? SendStatus::backpressure : SendStatus::sent;
}

void ConnectionImpl::write_frames(const iovec* iov, size_t count) {
  deferred_ = false;
  if (state_ == State::closed) return;
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += iov[i].iov_len;
  size_t written = 0;
  if (!outbox_) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    const ssize_t n = net::syscalls.sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return close_now();
    written = n > 0 ? static_cast<size_t>(n) : 0;
  }
  if (written < total) {
    const size_t held = (outbox_ ? outbox_->pending() : 0) + total - written;
    if (held > ctx_.limits().send_buffer && state_ != State::draining) {
      // A reader this slow would make us hold unbounded memory. The kernel may hold part of
      // a frame, so no close frame can follow cleanly: the connection is dropped.
      ctx_.metrics().send_buffer_overflow();
      return close_now();
    }
    try {
      Outbox& box = outbox_ ? *outbox_ : make_outbox();
      for (size_t i = 0, skip = written; i < count; ++i) {
        const size_t len = iov[i].iov_len;
        if (skip >= len) {
          skip -= len;
          continue;
        }
        box.data.append(static_cast<const char*>(iov[i].iov_base) + skip, len - skip);
        skip = 0;
      }
    } catch (const std::bad_alloc&) {
      return output_failed();
    }
    arm_writable(true);
  }
  finish_drain_if_flushed();
}

size_t ConnectionImpl::write_through(const uint8_t* header, size_t header_size, const char* data, size_t size) {
  iovec parts[2] = {{const_cast<uint8_t*>(header), header_size}, {const_cast<char*>(data), size}};
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = 2;
  ssize_t n = net::syscalls.sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) close_now();
    return 0;
  }
  return static_cast<size_t>(n);
}

void ConnectionImpl::queue_unsent(const uint8_t* header, size_t header_size, const char* data, size_t size,
                                  size_t written) {
  if (!outbox_) make_outbox();
  if (written < header_size) {
    outbox_->data.append(reinterpret_cast<const char*>(header) + written, header_size - written);
    written = header_size;
  }
  outbox_->data.append(data + (written - header_size), size - (written - header_size));
  arm_writable(true);
}

void ConnectionImpl::queue_raw(const char* data, size_t size) {
  if (outbox_ && !deferred_) outbox_->data.append(data, size);
  else if (util::ByteBuffer* cork = ctx_.cork_for(this, deferred_)) cork->append(data, size);
  else ctx_.defer(this, nullptr, 0, data, size);
}

void ConnectionImpl::send_close_frame(uint16_t code, std::string_view reason) {
  uint8_t payload[125];
  size_t size = code ? ws::encode_close_payload(payload, code, reason.data(), reason.size()) : 0;
  if (!close_received_) ctx_.metrics().closed(code);  // we close first; echoes were counted as the peer's
  close_sent_ = true;
  queue_frame(Opcode::close, reinterpret_cast<const char*>(payload), size, true);
}

void ConnectionImpl::write_out(const char* data, size_t size) {
  if (state_ == State::closed) return;
  size_t written = 0;
  if (!outbox_) {
    ssize_t n = net::syscalls.send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        close_now();
        return;
      }
      n = 0;
    }
    written = static_cast<size_t>(n);
  }
  if (written < size) {
    try {
      if (!outbox_) make_outbox();
      outbox_->data.append(data + written, size - written);
    } catch (const std::bad_alloc&) {
      return output_failed();  // the turn's end called this: nobody above to tell
    }
    arm_writable(true);
  }
  finish_drain_if_flushed();
}

void ConnectionImpl::on_writable() {
  if (!outbox_) {
    arm_writable(false);
    return;
  }
  Outbox& box = *outbox_;
  ssize_t n = net::syscalls.send(fd_, box.data.data() + box.offset, box.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) close_now();
    return;
  }
  box.offset += static_cast<size_t>(n);
  if (box.pending() == 0) {
    outbox_.reset();
    arm_writable(false);
    finish_drain_if_flushed();
  } else if (box.offset > box.data.size() / 2) {
    box.data.erase(0, box.offset);  // keep the outbox from holding what was already sent
    box.offset = 0;
  }
}

void ConnectionImpl::arm_writable(bool on) noexcept {
  if (writable_armed_ == on || state_ == State::closed) return;
  writable_armed_ = on;
  update_interest();
}

void ConnectionImpl::update_interest() noexcept {
  const uint32_t read = reading_paused_ ? 0u : uint32_t{EPOLLIN | EPOLLRDHUP};
  // A socket the kernel will not watch as asked (ENOMEM) could wait forever for EPOLLOUT.
  if (!ctx_.loop().modify(fd_, this, read | (writable_armed_ ? uint32_t{EPOLLOUT} : 0u))) close_now();
}

void ConnectionImpl::pause_reading() noexcept {
  if (reading_paused_ || state_ == State::closed) return;
  reading_paused_ = true;
  update_interest();
}

void ConnectionImpl::resume_reading() noexcept {
  if (!reading_paused_ || state_ == State::closed) return;
  reading_paused_ = false;
  update_interest();
}

}  // namespace capstan::app
