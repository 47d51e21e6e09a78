// One plain HTTP request in flight: the state the HttpResponse handles share with the
// connection that must carry the answer. Everything here runs on the connection's loop; the
// public handle posts there when called from another thread. The connection's Handshake holds
// the exchange while it is unanswered or streaming, and detaches it when the connection goes,
// so a late answer finds no connection and does nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "capstan/http.hpp"
#include "http/response.hpp"

namespace capstan::net {
class EventLoop;
}
namespace capstan::app {
class ConnectionImpl;
}

namespace capstan {

struct HttpExchange {
  enum class Stage : uint8_t { unanswered, streaming, done };

  HttpExchange(net::EventLoop& loop, app::ConnectionImpl& connection, bool head, bool keep_alive, bool http10)
      : loop(loop), connection(&connection), head(head), keep_alive(keep_alive), http10(http10) {}

  static HttpResponse response_for(std::shared_ptr<HttpExchange> exchange) { return HttpResponse(std::move(exchange)); }

  // Loop thread only.
  void send(uint16_t status, std::string_view body, std::string_view content_type, const HttpHeaders& headers,
            bool close_after = false);
  void start(uint16_t status, std::string_view content_type, const HttpHeaders& headers);
  void write(std::string_view piece);
  void end();
  // The connection is going: nothing more can be written; on_abort runs if the answer was
  // not complete.
  void detach() noexcept;

  net::EventLoop& loop;
  app::ConnectionImpl* connection;  // null once detached
  Stage stage = Stage::unanswered;
  bool head;        // HEAD: the head only
  bool keep_alive;  // the client may send another request on this connection
  bool http10;      // no chunked encoding: a stream ends with the close
  std::atomic<bool> finished{false};  // done or detached, for HttpResponse::finished on any thread
  std::function<void()> on_abort;

 private:
  void complete();
  static std::string header_lines(const HttpHeaders& headers);
};

}  // namespace capstan
