#include "net/tls/cipher_output.hpp"

#include <new>

#include "net/transport.hpp"

namespace capstan::net::tls {

namespace {

// One call's records when nothing is held: reused by every connection of the thread's loop.
std::string& thread_records() {
  thread_local std::string records;
  return records;
}

}  // namespace

BIO* CipherOutput::make_bio() {
  static BIO_METHOD* const method = [] {  // made once, for every connection of every loop
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "capstan TLS records");
    if (m && BIO_meth_set_write(m, bio_write) == 1 && BIO_meth_set_ctrl(m, bio_ctrl) == 1 &&
        BIO_meth_set_create(m, [](BIO* bio) {
          BIO_set_init(bio, 1);
          return 1;
        }) == 1)
      return m;
    BIO_meth_free(m);
    return static_cast<BIO_METHOD*>(nullptr);
  }();
  if (!method) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio) BIO_set_data(bio, this);
  return bio;
}

int CipherOutput::bio_write(BIO* bio, const char* data, int size) {
  auto* self = static_cast<CipherOutput*>(BIO_get_data(bio));
  std::string* into = self->into_ ? self->into_ : &self->held_;  // outside a call (none today): in order
  try {
    into->append(data, static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    self->out_of_memory_ = true;
    return -1;
  }
  return size;
}

long CipherOutput::bio_ctrl(BIO*, int command, long, void*) {
  // OpenSSL flushes after a handshake flight; the records are sent after the call anyway.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

void CipherOutput::begin() noexcept {
  if (holding()) {
    into_ = &held_;
    return;
  }
  into_ = &thread_records();
  into_->clear();
}

bool CipherOutput::send_held(int fd) noexcept {
  const ssize_t n = TcpTransport::send_plain(fd, held_.data() + held_sent_, held_.size() - held_sent_);
  if (n < 0) return false;
  held_sent_ += static_cast<size_t>(n);
  if (held_sent_ == held_.size()) {
    // A connection that stalled once keeps no big buffer for the rest of its life.
    if (held_.capacity() > 64 * 1024) std::string().swap(held_);
    else held_.clear();
    held_sent_ = 0;
  }
  return true;
}

bool CipherOutput::flush(int fd) noexcept {
  std::string* records = into_;
  into_ = nullptr;
  if (out_of_memory_) return false;
  if (records == &held_ || !records) return !holding() || send_held(fd);
  if (records->empty()) return true;
  const ssize_t n = TcpTransport::send_plain(fd, records->data(), records->size());
  if (n < 0) return false;
  if (static_cast<size_t>(n) < records->size()) {
    try {
      held_.assign(*records, static_cast<size_t>(n));
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  records->clear();
  return true;
}

}  // namespace capstan::net::tls
