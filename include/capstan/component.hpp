// The component interface: the counterpart of Ratchet's MessageComponentInterface.
//
// The server creates one instance of a component per event loop (thread) through its
// factory, so an instance only ever sees connections of its own loop and needs no locks.
// Callbacks never run concurrently for one instance. A connection is never destroyed inside
// its own callback: close() and terminate() take effect after the callback returns.
//
// Exceptions: a callback that throws (on_open, on_message, on_rate_limited, on_refused,
// on_error, on_close) is caught at the component boundary, logged, and that connection is
// closed with 1011 (internal error) as by close(), with on_error(WsError::component_failed)
// unless on_error itself threw; every other connection goes on untouched. on_shutdown's
// exceptions are logged: the server still closes its connections. An exception
// from a timer (Loop::after, every) or from work posted with Loop::post is logged and
// dropped: the timer keeps its schedule, the loop keeps running. Running out of memory while
// a message is queued for a connection (compression, its send buffer) drops that connection
// only. Catch what you can handle yourself; the boundary is a last resort, not control flow.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "capstan/connection.hpp"
#include "capstan/error.hpp"
#include "capstan/http.hpp"
#include "capstan/backend.hpp"
#include "capstan/http_client.hpp"
#include "capstan/loop.hpp"
#include "capstan/topics.hpp"
#include "capstan/types.hpp"
#include "capstan/users.hpp"

namespace capstan {

struct ComponentServices;
class Cluster;

// What the publish API (POST /publish, the Mercure endpoint) or another route hands to a
// route: an action and its data, for everyone on the route, for some users, or for a channel.
// Views: valid during on_publish only.
struct Publication {
  std::string_view action;
  std::string_view data;                // JSON text
  std::span<const std::string> users;   // user ids or identities; empty: not by user
  std::string_view channel;             // empty: no channel
  std::string_view id;                  // the publisher's id for it (Mercure's), may be empty
  std::string_view route;               // the route's path as the publisher named it
  // Only for subscribers the route authorized for it by name (Mercure's private updates): a
  // route on which anyone may subscribe to anything refuses it.
  bool restricted = false;
};
// How on_publish answers: the deliveries it made on every loop of this server, or an Error
// whose message says why the publication does not fit the route (a 400 for the publisher).
// Called once, on any thread.
using PublishDone = std::function<void(Expected<size_t> delivered)>;

class Component {
 public:
  virtual ~Component() = default;

  // The handshake completed; the connection may send.
  virtual void on_open(Connection&) {}
  // A complete, validated message (text is valid UTF-8).
  virtual void on_message(Connection& connection, Message message) = 0;
  // The route authenticates and this connection failed (no token, a bad token, an unknown
  // user): the handshake completed, on_open and on_close are not called. The default closes
  // with `code` (1008, or 1011 when the user database failed); `reason` is for logs.
  virtual void on_refused(Connection& connection, uint16_t code, std::string_view reason);
  // A message over the connection's rate (limits.messages_per_second, message_burst) with
  // limits.on_limit = "error": it is not delivered to on_message. The default drops it; the
  // notify component answers `error`. (With on_limit = "close" the connection closes 1008.)
  virtual void on_rate_limited(Connection&, Message) {}
  // The connection ended. No sends are possible any more.
  virtual void on_close(Connection&, CloseInfo) {}
  // A fault closes the connection (a WsError: a protocol violation, a limit, a timeout, the
  // component's own exception, with the close code close_code_of(error.code())); on_close
  // follows. A send buffer overflow found while sending is told at the end of the loop turn,
  // never from inside send() or send_to_many().
  virtual void on_error(Connection&, const Error&) {}
  // The server is stopping: connections are about to receive close 1001.
  virtual void on_shutdown() {}
  // The server reloaded its configuration (SIGHUP), on this instance's loop: re-read what
  // the component keeps of its own (files, caches). The server's limits and keys are done.
  virtual void on_reload() {}
  // Called once the instance is attached to its loop, before any connection: add timers here.
  virtual void on_start() {}
  // A plain HTTP request (no upgrade) to the route's own path, on this instance's loop
  // (capstan/http.hpp). The default answers 426: the route speaks WebSocket only.
  virtual void on_http(const HttpRequest& request, HttpResponse response);
  // A publication for this route (see Publication), on the loop that received it: deliver it
  // on every loop and node (a publication to a topic or a topic family crosses them by itself),
  // then call `done` with this server's deliveries. The default refuses: the route takes no
  // publications.
  virtual void on_publish(const Publication& publication, PublishDone done);

  // The loop this instance runs on; valid from on_start on.
  Loop& loop() const noexcept { return *loop_; }

  // This loop's topics (topics.hpp): subscribe connections, publish to every loop; valid from
  // on_start on.
  Topics& topics() const noexcept;
  // The other nodes (cluster.hpp), or nullptr when this server runs alone.
  Cluster* cluster() const noexcept;
  // This loop's HTTP client (http_client.hpp): calls to web services that never block the
  // loop. Made the first time any instance of the loop asks for it; valid from on_start on.
  HttpClient& http_client() const;
  // [backend]: signed requests to the web application and a cap per caller (backend.hpp),
  // for http_client().
  const Backend& backend() const;
  // This loop's instances of every route's component, this one's included.
  std::vector<Component*> route_components() const;
  // Hands `p` to every other route of this loop, as the publish API would; routes that do not
  // take it (a channel, on a route without channels) refuse it quietly.
  void publish_to_routes(const Publication& p) const;
  // The [users] provider, or nullptr when users.provider is "none".
  const Users* users() const noexcept;
  // Runs `job` on the server's worker pool (users.workers threads, each with its own
  // connection to the user database when there is one), then the function it returns on this
  // instance's loop. False only while the server is not running: nothing runs.
  bool offload(BlockingJob job);

 private:
  friend class ComponentAttach;
  Loop* loop_ = nullptr;
  ComponentServices* services_ = nullptr;
};

using ComponentFactory = std::function<std::unique_ptr<Component>()>;

}  // namespace capstan
