// The loop side of libcurl's multi socket interface: one CURLM per HttpClient, whose sockets
// are watched by capstan::Watch (one per socket curl names, wanting the sides curl asks for)
// and whose single timeout is one loop timer. On readiness or the timer it lets curl act, then
// hands every transfer curl finished, already removed from the multi, to its owner.
//
// curl is never entered from inside one of its own callbacks: the socket and timer callbacks
// only change what the loop watches; curl_multi_socket_action runs from the loop's callbacks.
#pragma once

#include <curl/curl.h>

#include <unordered_map>
#include <vector>

#include "capstan/loop.hpp"
#include "capstan/watch.hpp"

namespace capstan::net {

class CurlMulti {
 public:
  struct Finished {
    CURL* easy;
    CURLcode result;
  };
  // Told, outside curl, what it finished since the last time; may destroy the CurlMulti.
  class Owner {
   public:
    virtual void finished(std::vector<Finished>& batch) = 0;

   protected:
    ~Owner() = default;
  };

  CurlMulti(Loop& loop, Owner& owner, long max_host_connections);
  // Its owner removes every easy handle first.
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  explicit operator bool() const noexcept { return multi_ != nullptr; }
  CURLMcode add(CURL* easy) noexcept { return curl_multi_add_handle(multi_, easy); }
  // Stops a transfer before it finished; curl closes its connection.
  void remove(CURL* easy) noexcept { curl_multi_remove_handle(multi_, easy); }
  void set_max_host_connections(long n) noexcept;

 private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  void watch(curl_socket_t fd, int what);
  // curl_multi_socket_action on `fd` (CURL_SOCKET_TIMEOUT for the timer), then the finished.
  void act(curl_socket_t fd, int mask);

  Loop& loop_;
  Owner& owner_;
  CURLM* multi_ = nullptr;
  std::unordered_map<curl_socket_t, Watch> watches_;
  TimerId timer_ = 0;
  bool closing_ = false;
};

}  // namespace capstan::net
