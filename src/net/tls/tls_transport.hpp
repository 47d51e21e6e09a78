// TLS under one connection (OpenSSL, non-blocking): the handshake is driven by readiness like
// any read, never blocking the loop; reads hand out decrypted bytes (records read from the
// socket, read-ahead); writes encrypt what the output path offers into whole records, sent
// in one send(2) per call (CipherOutput), which keeps what the socket refuses and watches
// writability for it itself; the half-close sends close_notify first.
//
// What goes wrong is counted in /metrics (capstan_tls_handshakes_total by outcome,
// capstan_tls_stream_errors_total by kind) and ends only this connection.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "net/tls/cipher_output.hpp"
#include "net/tls/tls_context.hpp"
#include "net/transport.hpp"

namespace capstan::net::tls {

class TlsTransport final : public Transport, public Pollable {
 public:
  // Null when OpenSSL has no memory for the session.
  static std::unique_ptr<TlsTransport> make(std::shared_ptr<const TlsContexts> contexts, int fd);
  ~TlsTransport() override;

  ssize_t read(int fd, uint8_t* buf, size_t capacity) noexcept override;
  ssize_t write(int fd, const iovec* iov, size_t count) noexcept override;
  void shutdown_write(int fd) noexcept override;

  uint32_t own_interest() const noexcept override;
  bool take_interest_change() noexcept override;
  Pollable* watcher(Pollable* caller) noexcept override {
    caller_ = caller;
    return this;
  }
  void on_event(uint32_t events) override;  // the readiness, as it matters to the caller
  // Decrypted bytes not handed out yet, or (read-ahead) records read from the socket and not
  // decrypted yet: either way no readiness will report them.
  bool has_buffered_input() const noexcept override { return SSL_has_pending(ssl_) == 1; }
  bool established() const noexcept override { return established_; }
  void abandoned() noexcept override;

  // The negotiated protocol and suite, for logs and tests ("TLSv1.3", "TLS_AES_256_GCM_SHA384").
  const char* version() const noexcept { return SSL_get_version(ssl_); }

 private:
  TlsTransport(std::shared_ptr<const TlsContexts> contexts, SSL* ssl, int fd) : contexts_(std::move(contexts)), ssl_(ssl), fd_(fd) {}
  bool handshake(int fd) noexcept;  // true once established; false: not yet, or failed_
  // An SSL call returned `result`: true when it only waits for input; false when the stream
  // failed (counted).
  bool note_wait(int result) noexcept;
  // Sends the records of the SSL call just made (CipherOutput::begin before it); watches
  // writability while the socket holds some back. False when the stream failed.
  bool send_records(int fd) noexcept;
  void set_write_waits_for_read(bool on) noexcept;

  std::shared_ptr<const TlsContexts> contexts_;  // alive while the SNI callback may use them
  Pollable* caller_ = nullptr;
  SSL* ssl_;
  int fd_;
  CipherOutput out_;
  bool established_ = false;
  bool failed_ = false;
  bool watching_writable_ = false;  // records wait for the socket
  bool write_wants_read_ = false;   // the caller's output waits for the handshake
  bool shutdown_due_ = false;       // the half-close waits for the records before it
  bool interest_changed_ = false;
};

}  // namespace capstan::net::tls
