#include "net/tls/tls_transport.hpp"

#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "capstan/metrics.hpp"

namespace capstan::net::tls {

namespace {

constexpr size_t kMaxRecord = 16 * 1024;  // TLS plaintext per record
// Plaintext one write takes at most: what the socket refuses of its records is held by the
// transport beside the caller's outbox, so a call's share is bounded.
constexpr size_t kMaxPerWrite = 256 * 1024;

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
  std::unique_ptr<TlsTransport> t(new TlsTransport(std::move(contexts), ssl, fd));
  // Records are read from the socket (read-ahead: every record that has arrived, in one
  // read) and written through CipherOutput (a call's records in one send).
  BIO* in = BIO_new_socket(fd, BIO_NOCLOSE);
  BIO* out = t->out_.make_bio();
  if (!in || !out) {
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    return nullptr;  // frees the SSL
  }
  SSL_set_bio(ssl, in, out);
  SSL_set_accept_state(ssl);
  return t;
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

void TlsTransport::set_write_waits_for_read(bool on) noexcept {
  if (write_wants_read_ == on) return;
  write_wants_read_ = on;
  interest_changed_ = true;
}

bool TlsTransport::send_records(int fd) noexcept {
  const bool was_holding = out_.holding();
  if (!out_.flush(fd)) {
    failed_ = true;
    return false;
  }
  const bool holding = out_.holding();
  if (holding != was_holding || holding != watching_writable_) {
    watching_writable_ = holding;
    interest_changed_ = true;
  }
  if (!holding && shutdown_due_) {
    shutdown_due_ = false;
    ::shutdown(fd, SHUT_WR);
  }
  return true;
}

bool TlsTransport::take_interest_change() noexcept {
  const bool changed = interest_changed_;
  interest_changed_ = false;
  return changed;
}

uint32_t TlsTransport::own_interest() const noexcept {
  return (watching_writable_ ? Interest::write : 0u) | (write_wants_read_ ? Interest::read : 0u);
}

void TlsTransport::on_event(uint32_t events) {
  if ((events & Ready::writable) && out_.holding()) {
    out_.begin();
    if (!send_records(fd_)) events |= Ready::readable;  // the next read reports the end
  }
  if (write_wants_read_ && (events & Ready::readable)) events |= Ready::writable;
  caller_->on_event(events);
}

bool TlsTransport::handshake(int fd) noexcept {
  clear_errors();
  out_.begin();
  const int result = SSL_do_handshake(ssl_);
  const int error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, result);
  // The flight it wrote goes out first: even a failure's alert, where the socket takes it.
  if (!send_records(fd) && error != SSL_ERROR_SSL) {
    handshake_counters().client_left.add();
    return false;
  }
  if (result == 1) {
    established_ = true;
    set_write_waits_for_read(false);
    handshake_counters().completed.add();
    return true;
  }
  if (error == SSL_ERROR_WANT_READ) return false;  // CipherOutput never makes OpenSSL wait to write
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

bool TlsTransport::note_wait(int result) noexcept {
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ) return true;  // a read waits for input; writes never wait here
  failed_ = true;
  // The peer's close_notify is an orderly end; so is its EOF after ours (our last word was
  // said: most clients close TCP then without a close_notify of their own).
  const bool after_ours = (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0;
  if (error != SSL_ERROR_ZERO_RETURN && !(after_ours && is_unexpected_eof(error))) {
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
  bool ended = false;
  out_.begin();  // a read can write too: a TLS 1.3 key update's answer, an alert
  while (got < capacity) {
    size_t n = 0;
    clear_errors();
    const int result = SSL_read_ex(ssl_, buf + got, capacity - got, &n);
    if (result == 1) {
      got += n;
      // Nothing more already read from the socket: stop here rather than ask the socket for
      // an EAGAIN (level-triggered readiness reports what comes next).
      if (!SSL_has_pending(ssl_)) break;
      continue;
    }
    ended = !note_wait(result);
    break;
  }
  if (!send_records(fd)) ended = true;
  if (ended && got == 0) return -1;
  return static_cast<ssize_t>(got);  // after an end with bytes read, the next read reports it
}

ssize_t TlsTransport::write(int fd, const iovec* iov, size_t count) noexcept {
  if (failed_) return -1;
  if (!established_ && !handshake(fd)) {
    if (failed_) return -1;
    set_write_waits_for_read(true);  // the output waits for the handshake, which waits for input
    return 0;
  }
  if (out_.holding()) {  // records from before leave first; nothing new until they have
    out_.begin();
    if (!send_records(fd)) return -1;
    if (out_.holding()) return 0;
  }
  // Records are filled whole (a frame's header and the start of its payload share one): a
  // record costs a header, a tag and OpenSSL's per-record work, whatever its size.
  thread_local char gathered[kMaxRecord];
  size_t written = 0;
  auto put = [&](const char* data, size_t size) -> bool {  // false: the stream failed
    while (size > 0) {
      size_t n = 0;
      clear_errors();
      const int result = SSL_write_ex(ssl_, data, size, &n);
      if (result != 1) {
        note_wait(result);  // never only a wait here (renegotiation is refused), but if so: later
        return false;
      }
      written += n;
      data += n;
      size -= n;
    }
    return true;
  };
  // Encrypted a share at a time and sent, as long as the socket takes every record: like
  // plain TCP, a write takes what the socket takes (a big message to a reader that keeps up
  // never piles up), and at most one share's records wait in the transport.
  size_t i = 0, at = 0;  // the next byte: piece i, offset at
  while (i < count) {
    out_.begin();
    size_t held = 0;
    bool ok = true;
    const size_t share_end = written + kMaxPerWrite;
    for (; ok && i < count && written + held < share_end; ++i, at = 0) {
      const char* data = static_cast<const char*>(iov[i].iov_base) + at;
      size_t size = iov[i].iov_len - at;
      while (ok && size > 0 && written + held < share_end) {
        if (held == 0 && size >= kMaxRecord) {  // whole records straight from the caller's bytes
          const size_t whole = std::min(size - size % kMaxRecord, share_end - written);
          ok = put(data, whole);
          data += whole;
          size -= whole;
          at += whole;
          continue;
        }
        const size_t take = std::min(size, kMaxRecord - held);
        std::memcpy(gathered + held, data, take);
        held += take;
        data += take;
        size -= take;
        at += take;
        if (held == kMaxRecord) {
          ok = put(gathered, held);
          held = 0;
        }
      }
      if (size > 0) break;  // the share is full within this piece: go on from `at` next time
    }
    if (ok && held) ok = put(gathered, held);
    if (!send_records(fd) || (!ok && failed_)) return -1;
    if (!ok || out_.holding()) break;  // the socket is full: the caller keeps the rest
  }
  return static_cast<ssize_t>(written);
}

void TlsTransport::shutdown_write(int fd) noexcept {
  if (established_ && !failed_) {
    clear_errors();
    out_.begin();
    SSL_shutdown(ssl_);  // close_notify; the peer's answer is not waited for
    ERR_clear_error();
    send_records(fd);
  }
  // The half-close follows the last record: now, or once the socket has taken them.
  if (out_.holding() && !failed_) shutdown_due_ = true;
  else ::shutdown(fd, SHUT_WR);
}

void TlsTransport::abandoned() noexcept {
  if (!established_ && !failed_) handshake_counters().timeout.add();
}

}  // namespace capstan::net::tls
