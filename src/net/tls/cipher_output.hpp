// Where a TLS connection's records go: OpenSSL hands every record it makes to a BIO of ours,
// which collects the records of one call so that they leave in one send(2) (a 16 KiB message
// is two records and one system call, not one per record), and keeps what the socket refuses
// in order, so that OpenSSL itself never waits on the socket. Records of a call land in one
// buffer per thread when nothing is held; a connection owns memory for them only while the
// socket is full (an idle TLS connection holds none).
#pragma once

#include <openssl/bio.h>

#include <string>

namespace capstan::net::tls {

class CipherOutput {
 public:
  // The BIO OpenSSL writes records to (the SSL owns it; this object must outlive it). Null
  // when OpenSSL has no memory for it.
  BIO* make_bio();
  // Before an SSL call that may write: its records go after what the socket has not taken.
  void begin() noexcept;
  // After it: sends what is collected and held. False when the socket failed (a reset) or
  // memory for the rest ran out: the stream is over.
  bool flush(int fd) noexcept;
  // Records the socket has not taken yet (the caller waits for writability).
  bool holding() const noexcept { return held_.size() > held_sent_; }

 private:
  static int bio_write(BIO* bio, const char* data, int size);
  static long bio_ctrl(BIO* bio, int command, long number, void* pointer);
  bool send_held(int fd) noexcept;

  std::string held_;  // records the socket refused, in order, from held_sent_ on
  size_t held_sent_ = 0;
  std::string* into_ = nullptr;  // this call's records: the thread's buffer, or held_
  bool out_of_memory_ = false;
};

}  // namespace capstan::net::tls
