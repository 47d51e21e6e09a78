#include "net/tls/tls_transport.hpp"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cstring>

#include "capstan/metrics.hpp"

namespace capstan::net::tls {

namespace {

constexpr size_t kMaxRecord = 16 * 1024;  // TLS plaintext per record

Counter& handshakes(const char* outcome) {
  return counter("capstan_tls_handshakes_total", "TLS handshakes, by outcome (completed, failed, plain_http, client_left, timeout)",
                 {{"outcome", outcome}});
}
struct HandshakeCounters {
  Counter& completed = handshakes("completed");
  Counter& failed = handshakes("failed");
  Counter& plain_http = handshakes("plain_http");
  Counter& client_left = handshakes("client_left");
  Counter& timeout = handshakes("timeout");
};
HandshakeCounters& handshake_counters() {
  static HandshakeCounters c;
  return c;
}
Counter& stream_errors(const char* kind) {
  return counter("capstan_tls_stream_errors_total",
                 "TLS connections ended by a stream fault after the handshake: truncated (the peer's EOF without close_notify, "
                 "a record cut short) or protocol (a record that does not decrypt or parse)",
                 {{"kind", kind}});
}

// Plain HTTP sent to a TLS port gets a plain answer, as nginx gives one, so a person who typed
// http:// sees why; then the connection ends.
void answer_plain_http(int fd) noexcept {
  static const char kAnswer[] =
      "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 53\r\n\r\n"
      "This port speaks TLS: use https:// or wss:// instead\n";
  [[maybe_unused]] ssize_t n = ::send(fd, kAnswer, sizeof kAnswer - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

// SSL_get_error needs an empty error queue before each I/O call. ERR_clear_error empties all 16
// slots of the thread's queue every time (~840 instructions in OpenSSL 3.0, twice per echo);
// the queue is almost always empty already (every failure here clears it), and peeking is
// cheap.
void clear_errors() noexcept {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

bool is_unexpected_eof(int error) noexcept {
  if (error == SSL_ERROR_SYSCALL) return true;  // EOF or a reset with no TLS alert
  return ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

}  // namespace

std::unique_ptr<TlsTransport> TlsTransport::make(std::shared_ptr<const TlsContexts> contexts, int fd) {
  handshake_counters();  // every outcome shows in /metrics from the first connection on, at 0
  SSL* ssl = SSL_new(contexts->initial());
  if (!ssl) {
    ERR_clear_error();
    return nullptr;
  }
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsTransport>(new TlsTransport(std::move(contexts), ssl));
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

void TlsTransport::set_waits(bool read_wants_write, bool write_wants_read) noexcept {
  if (read_wants_write == read_wants_write_ && write_wants_read == write_wants_read_) return;
  read_wants_write_ = read_wants_write;
  write_wants_read_ = write_wants_read;
  interest_changed_ = true;
}

bool TlsTransport::take_interest_change() noexcept {
  const bool changed = interest_changed_;
  interest_changed_ = false;
  return changed;
}

uint32_t TlsTransport::own_interest() const noexcept {
  return (read_wants_write_ ? Interest::write : 0u) | (write_wants_read_ ? Interest::read : 0u);
}

void TlsTransport::on_event(uint32_t events) {
  if (read_wants_write_ && (events & Ready::writable)) events |= Ready::readable;
  if (write_wants_read_ && (events & Ready::readable)) events |= Ready::writable;
  caller_->on_event(events);
}

bool TlsTransport::handshake(int fd) noexcept {
  clear_errors();
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    established_ = true;
    set_waits(false, false);
    handshake_counters().completed.add();
    return true;
  }
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    set_waits(error == SSL_ERROR_WANT_WRITE, false);
    return false;
  }
  failed_ = true;
  HandshakeCounters& count = handshake_counters();
  if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_HTTP_REQUEST) {
    count.plain_http.add();
    answer_plain_http(fd);
  } else if (is_unexpected_eof(error)) {
    count.client_left.add();
  } else {
    count.failed.add();
  }
  ERR_clear_error();
  return false;
}

bool TlsTransport::note_wait(int result, bool reading) noexcept {
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ) {
    set_waits(false, !reading);
    return true;
  }
  if (error == SSL_ERROR_WANT_WRITE) {
    set_waits(reading, false);
    return true;
  }
  failed_ = true;
  if (error != SSL_ERROR_ZERO_RETURN) {  // the peer's close_notify is an orderly end
    static Counter& truncated = stream_errors("truncated");
    static Counter& protocol = stream_errors("protocol");
    (is_unexpected_eof(error) ? truncated : protocol).add();
  }
  ERR_clear_error();
  return false;
}

ssize_t TlsTransport::read(int fd, uint8_t* buf, size_t capacity) noexcept {
  if (failed_) return -1;
  if (!established_ && !handshake(fd)) return failed_ ? -1 : 0;
  size_t got = 0;
  while (got < capacity) {
    size_t n = 0;
    clear_errors();
    const int result = SSL_read_ex(ssl_, buf + got, capacity - got, &n);
    if (result == 1) {
      got += n;
      set_waits(false, write_wants_read_);
      // Nothing more already read from the socket: stop here rather than ask the socket for
      // an EAGAIN (level-triggered readiness reports what comes next).
      if (!SSL_has_pending(ssl_)) break;
      continue;
    }
    if (!note_wait(result, true)) return got ? static_cast<ssize_t>(got) : -1;  // the end shows at the next read
    break;
  }
  return static_cast<ssize_t>(got);
}

ssize_t TlsTransport::write(int fd, const iovec* iov, size_t count) noexcept {
  if (failed_) return -1;
  if (!established_ && !handshake(fd)) {
    if (failed_) return -1;
    set_waits(read_wants_write_, true);  // the output waits for the handshake, which waits for input
    return 0;
  }
  // Small pieces are gathered into whole records (a record per frame would cost a header,
  // a tag and a system call each); a piece of a record or more goes as it is.
  thread_local char gathered[kMaxRecord];
  size_t written = 0;
  auto put = [&](const char* data, size_t size) -> bool {  // false: stop (the socket is full, or the stream failed)
    while (size > 0) {
      size_t n = 0;
      clear_errors();
      const int result = SSL_write_ex(ssl_, data, size, &n);
      if (result != 1) {
        note_wait(result, false);
        return false;
      }
      set_waits(read_wants_write_, false);
      written += n;
      data += n;
      size -= n;
    }
    return true;
  };
  size_t held = 0;
  for (size_t i = 0; i < count; ++i) {
    const char* data = static_cast<const char*>(iov[i].iov_base);
    const size_t size = iov[i].iov_len;
    if (held + size <= kMaxRecord) {
      std::memcpy(gathered + held, data, size);
      held += size;
      continue;
    }
    if (held && !put(gathered, held)) return failed_ ? -1 : static_cast<ssize_t>(written);
    held = 0;
    if (size < kMaxRecord) {
      std::memcpy(gathered, data, size);
      held = size;
    } else if (!put(data, size)) {
      return failed_ ? -1 : static_cast<ssize_t>(written);
    }
  }
  if (held && !put(gathered, held)) return failed_ ? -1 : static_cast<ssize_t>(written);
  return static_cast<ssize_t>(written);
}

void TlsTransport::shutdown_write(int fd) noexcept {
  if (established_ && !failed_) {
    clear_errors();
    SSL_shutdown(ssl_);  // close_notify; the peer's answer is not waited for
    ERR_clear_error();
  }
  ::shutdown(fd, SHUT_WR);
}

void TlsTransport::abandoned() noexcept {
  if (!established_ && !failed_) handshake_counters().timeout.add();
}

}  // namespace capstan::net::tls
