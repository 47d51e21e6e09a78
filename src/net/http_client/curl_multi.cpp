#include "net/http_client/curl_multi.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "capstan/log.hpp"

namespace capstan::net {

namespace {

// Once per process, whichever loop asks first (curl_global_init is not thread-safe before
// curl 7.84). Never undone: other threads' clients may outlive any one of them.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
      log::error("http client: curl_global_init failed", {{"error", curl_easy_strerror(rc)}});
  });
}

// Idle connections kept for reuse, over every host: more than the hosts one loop talks to
// times the connections each of them usually keeps busy.
constexpr long kIdleConnections = 64;

}  // namespace

CurlMulti::CurlMulti(Loop& loop, Owner& owner, long max_host_connections) : loop_(loop), owner_(owner) {
  init_curl_once();
  multi_ = curl_multi_init();
  if (!multi_) return;
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, kIdleConnections);
  set_max_host_connections(max_host_connections);
}

CurlMulti::~CurlMulti() {
  closing_ = true;
  if (timer_) loop_.cancel(timer_);
  // Out of epoll while the descriptors are still open: the cleanup closes the idle ones.
  watches_.clear();
  if (multi_) curl_multi_cleanup(multi_);
}

void CurlMulti::set_max_host_connections(long n) noexcept {
  if (multi_) curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, n);
}

int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  static_cast<CurlMulti*>(self)->watch(fd, what);
  return 0;
}

void CurlMulti::watch(curl_socket_t fd, int what) {
  // REMOVE comes before curl closes the descriptor, so the Watch leaves epoll first.
  if (what == CURL_POLL_REMOVE) {
    watches_.erase(fd);  // may be the Watch whose callback is running: Watch allows it
    return;
  }
  if (closing_) return;
  auto it = watches_.find(fd);
  if (it == watches_.end()) {
    Watch w(
        loop_, fd, [this, fd] { act(fd, CURL_CSELECT_IN); }, [this, fd] { act(fd, CURL_CSELECT_OUT); });
    it = watches_.emplace(fd, std::move(w)).first;
  }
  const bool read = what == CURL_POLL_IN || what == CURL_POLL_INOUT;
  const bool write = what == CURL_POLL_OUT || what == CURL_POLL_INOUT;
  if (!it->second.want_read(read) || !it->second.want_write(write)) {
    // Out of epoll watches or memory: the transfer hears nothing more and ends by its timeout.
    log::error("http client: cannot watch a socket", {{"error", std::strerror(errno)}});
  }
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* p) {
  auto* self = static_cast<CurlMulti*>(p);
  if (self->timer_) self->loop_.cancel(self->timer_);
  self->timer_ = 0;
  if (timeout_ms < 0 || self->closing_) return 0;
  // Also for 0 ("act now"): a loop timer runs at the next turn, outside this callback.
  self->timer_ = self->loop_.after(Duration(timeout_ms), [self] {
    self->timer_ = 0;
    self->act(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void CurlMulti::act(curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, mask, &running);
  std::vector<Finished> batch;
  int queued = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &queued)) {
    if (m->msg == CURLMSG_DONE) batch.push_back({m->easy_handle, m->data.result});
  }
  // After reading: the message's memory does not survive removing its handle.
  for (const Finished& f : batch) curl_multi_remove_handle(multi_, f.easy);
  if (!batch.empty()) owner_.finished(batch);  // last: it may destroy this
}

}  // namespace capstan::net
