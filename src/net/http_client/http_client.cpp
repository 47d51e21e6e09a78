// capstan::HttpClient (capstan/http_client.hpp): the requests in flight by id, the promise about
// `done` (later, on the loop, once, never after cancel or the client's end), InFlightLimit's
// places, and a small pool of easy handles. curl's side is CurlMulti (the loop) and Transfer
// (one exchange).
//
// Every request has one entry in `requests_` from request() until its done is called or it is
// cancelled; a request whose outcome is known but not yet told keeps its entry with the
// outcome in it, so a cancel in the meantime still silences it. Outcomes are told from the
// loop's callbacks (a socket, a timer), one by one, checking after each done whether it
// destroyed the client.
#include "capstan/http_client.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <unordered_map>

#include "capstan/log.hpp"
#include "net/http_client/curl_multi.hpp"
#include "net/http_client/transfer.hpp"
#include "util/check.hpp"

namespace capstan {

std::string_view HttpClientResponse::header(std::string_view name) const noexcept {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b); }))
      return v;
  }
  return {};
}

bool InFlightLimit::try_acquire() noexcept {
  size_t n = count_.load(std::memory_order_relaxed);
  do {
    if (n >= max_) return false;
  } while (!count_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

void InFlightLimit::release() noexcept { count_.fetch_sub(1, std::memory_order_relaxed); }

class HttpClient::Impl final : public net::CurlMulti::Owner {
 public:
  Impl(Loop& loop, HttpClientOptions options) : loop_(loop), options_(options) {}
  ~Impl();

  RequestId request(HttpClientRequest request, Done done, std::shared_ptr<InFlightLimit> limit);
  void cancel(RequestId id);
  size_t in_flight() const noexcept { return requests_.size(); }
  void shut_down();
  void finished(std::vector<net::CurlMulti::Finished>& batch) override;
  const HttpClientOptions& options() const noexcept { return options_; }
  void set_options(const HttpClientOptions& options) {
    options_ = options;
    if (multi_) multi_->set_max_host_connections(options.max_connections_per_host);
  }

 private:
  struct Request {
    Done done;
    std::shared_ptr<InFlightLimit> limit;       // set while it holds a place in it
    std::unique_ptr<net::Transfer> transfer;    // while curl has it
    std::optional<Expected<HttpClientResponse>> outcome;  // known, not yet told
  };

  RequestId refuse(RequestId id, Request r, Error why);
  void tell_refusals();
  // Calls the request's done with its outcome, if it has one and is still there; false when
  // that destroyed the client (the caller returns at once, touching nothing).
  bool tell(RequestId id);
  // Takes the handle back from a transfer curl no longer has.
  void recycle(net::Transfer& t) noexcept;
  CURL* easy_handle() noexcept;

  static constexpr size_t kPooledHandles = 8;

  Loop& loop_;
  HttpClientOptions options_;
  std::unique_ptr<net::CurlMulti> multi_;  // made by the first request that gets that far
  std::unordered_map<RequestId, Request> requests_;
  std::vector<RequestId> refused_;  // refused in request(), told at the next turn
  TimerId refusal_timer_ = 0;
  std::vector<CURL*> pool_;  // reset handles, for the next requests
  RequestId next_id_ = 1;
  bool shut_ = false;
  bool ending_ = false;         // the destructor runs
  bool* destroyed_ = nullptr;   // the innermost tell()'s flag while a done runs
};

HttpClient::Impl::~Impl() {
  ending_ = true;
  if (destroyed_) *destroyed_ = true;
  if (refusal_timer_) loop_.cancel(refusal_timer_);
  // Moved out first: a done's captures may, as they are destroyed, cancel another request.
  auto requests = std::move(requests_);
  requests_.clear();
  for (auto& [id, r] : requests) {
    if (r.transfer && r.transfer->easy() && multi_) multi_->remove(r.transfer->easy());
    r.transfer.reset();
    if (r.limit) r.limit->release();
  }
  requests.clear();
  multi_.reset();
  for (CURL* easy : pool_) curl_easy_cleanup(easy);
}

CURL* HttpClient::Impl::easy_handle() noexcept {
  if (pool_.empty()) return curl_easy_init();
  CURL* easy = pool_.back();
  pool_.pop_back();
  return easy;
}

void HttpClient::Impl::recycle(net::Transfer& t) noexcept {
  CURL* easy = t.take_easy();
  if (!easy) return;
  if (pool_.size() < kPooledHandles) {
    curl_easy_reset(easy);  // before the transfer's URL and header list go
    pool_.push_back(easy);
  } else {
    curl_easy_cleanup(easy);
  }
}

RequestId HttpClient::Impl::request(HttpClientRequest request, Done done, std::shared_ptr<InFlightLimit> limit) {
  const RequestId id = next_id_++;
  Request r;
  r.done = std::move(done);
  if (ending_) return id;  // from a done's captures as the client goes: nothing will be told
  if (shut_) return refuse(id, std::move(r), Error(HttpClientError::shutting_down));
  if (limit && !limit->try_acquire())
    return refuse(id, std::move(r), Error(HttpClientError::too_many_in_flight, std::to_string(limit->max()) + " requests in flight, the most allowed"));
  r.limit = std::move(limit);
  CURL* easy = easy_handle();
  if (!easy) return refuse(id, std::move(r), Error(HttpClientError::transfer_failed, "out of memory"));
  auto transfer = std::make_unique<net::Transfer>(id);
  if (Status started = transfer->start(easy, std::move(request), options_); !started) {
    recycle(*transfer);
    return refuse(id, std::move(r), std::move(started).error());
  }
  if (!multi_) {
    multi_ = std::make_unique<net::CurlMulti>(loop_, *this, options_.max_connections_per_host);
    if (!*multi_) {
      multi_.reset();
      recycle(*transfer);
      return refuse(id, std::move(r), Error(HttpClientError::transfer_failed, "curl_multi_init failed"));
    }
  }
  // curl starts it from its timer, at the next turn at the earliest.
  if (const CURLMcode rc = multi_->add(easy); rc != CURLM_OK) {
    recycle(*transfer);
    return refuse(id, std::move(r), Error(HttpClientError::transfer_failed, curl_multi_strerror(rc)));
  }
  r.transfer = std::move(transfer);
  requests_.emplace(id, std::move(r));
  return id;
}

RequestId HttpClient::Impl::refuse(RequestId id, Request r, Error why) {
  r.outcome.emplace(std::move(why));
  requests_.emplace(id, std::move(r));
  refused_.push_back(id);
  if (!refusal_timer_) {
    refusal_timer_ = loop_.after(Duration::zero(), [this] {
      refusal_timer_ = 0;
      tell_refusals();
    });
  }
  return id;
}

void HttpClient::Impl::tell_refusals() {
  std::vector<RequestId> ids;
  ids.swap(refused_);  // refusals made by these dones wait for the next turn
  for (RequestId id : ids)
    if (!tell(id)) return;
}

void HttpClient::Impl::finished(std::vector<net::CurlMulti::Finished>& batch) {
  // First every outcome, while no done has run; then the dones, each of which may cancel
  // the others or end the client.
  std::vector<RequestId> ids;
  ids.reserve(batch.size());
  for (const net::CurlMulti::Finished& f : batch) {
    net::Transfer* t = nullptr;
    curl_easy_getinfo(f.easy, CURLINFO_PRIVATE, &t);
    auto it = requests_.find(t->id());
    CAPSTAN_CHECK(it != requests_.end());  // a cancel takes the handle out of curl first
    Request& r = it->second;
    r.outcome.emplace(t->finish(f.result));
    recycle(*t);
    r.transfer.reset();
    ids.push_back(it->first);
  }
  for (RequestId id : ids)
    if (!tell(id)) return;
}

bool HttpClient::Impl::tell(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end() || !it->second.outcome) return true;  // cancelled meanwhile
  Request r = std::move(it->second);
  requests_.erase(it);
  if (r.limit) r.limit->release();
  if (!r.done) return true;  // fire and forget
  bool destroyed = false;
  bool* outer = std::exchange(destroyed_, &destroyed);
  try {
    r.done(std::move(*r.outcome));
  } catch (const std::exception& e) {
    log::error("http client: a request's done threw", {{"what", e.what()}});
  } catch (...) {
    log::error("http client: a request's done threw", {{"what", "not a std::exception"}});
  }
  if (destroyed) {
    if (outer) *outer = true;
    return false;
  }
  destroyed_ = outer;
  return true;
}

void HttpClient::Impl::cancel(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  Request r = std::move(it->second);
  requests_.erase(it);
  if (r.transfer) {
    multi_->remove(r.transfer->easy());
    recycle(*r.transfer);
  }
  if (r.limit) r.limit->release();
}

void HttpClient::Impl::shut_down() {
  shut_ = true;
  std::vector<RequestId> ids;
  for (auto& [id, r] : requests_) {
    if (r.transfer) {
      multi_->remove(r.transfer->easy());
      recycle(*r.transfer);
      r.transfer.reset();
      r.outcome.emplace(Error(HttpClientError::shutting_down));
    }
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());  // in the order they were made
  for (RequestId id : ids)
    if (!tell(id)) return;
}

HttpClient::HttpClient(Loop& loop, HttpClientOptions options) : impl_(std::make_unique<Impl>(loop, options)) {}
HttpClient::~HttpClient() = default;

RequestId HttpClient::request(HttpClientRequest request, Done done, std::shared_ptr<InFlightLimit> limit) {
  return impl_->request(std::move(request), std::move(done), std::move(limit));
}
void HttpClient::cancel(RequestId id) { impl_->cancel(id); }
size_t HttpClient::in_flight() const noexcept { return impl_->in_flight(); }
void HttpClient::shut_down() { impl_->shut_down(); }
const HttpClientOptions& HttpClient::options() const noexcept { return impl_->options(); }
void HttpClient::set_options(const HttpClientOptions& options) { impl_->set_options(options); }

}  // namespace capstan
