// The action protocol of the `notify` component (SPEC section 3), for C++ handlers.
//
// Clients send {"action": NAME, "data": ANY}; the server answers {"action", "data"} with
// `data` a string holding JSON (the Ratchet tutorial's client does JSON.parse(message.data)).
// A handler is registered per action name and runs on the loop of the sender's connection:
//
//   capstan::Server server(config);
//   server.notify("/", {
//       {"ping", capstan::Target::sender, [](capstan::ActionContext& a) { a.reply("\"pong\""); }},
//       {"show", capstan::Target::sender, [](capstan::ActionContext& a) {
//          auto id = a.data()["id"].as_int();
//          if (!id) return a.refuse(std::vector<std::string>{"id: this value should be an integer"});
//          a.reply(R"({"id":)" + std::to_string(*id) + "}");
//        }},
//   });
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "capstan/connection.hpp"
#include "capstan/json.hpp"

namespace capstan {

class ActionContext {
 public:
  virtual std::string_view action() const noexcept = 0;
  virtual Json data() const noexcept = 0;
  virtual Connection& sender() const noexcept = 0;
  const User* user() const noexcept { return sender().user(); }

  // `data_json` (JSON text) as this action's reply, to the action's target.
  virtual void reply(std::string_view data_json) = 0;
  // Explicit deliveries, under any action name.
  virtual void send(Connection& to, std::string_view action, std::string_view data_json) = 0;
  virtual void send_to_users(std::span<const int64_t> user_ids, std::string_view action, std::string_view data_json) = 0;
  virtual void broadcast(std::string_view action, std::string_view data_json) = 0;

  // Refusals, as the tutorial's WebSocketInvalidRequestException: `error` to the sender (the
  // connection stays), or when fatal `fatalError` and the close (NotifyOptions::fatal_close_code).
  virtual void refuse(std::string_view message, bool fatal = false) = 0;
  // Validation errors: `error` whose data is a JSON array of the messages.
  virtual void refuse(const std::vector<std::string>& validation_errors) = 0;

 protected:
  ~ActionContext() = default;
};

// Thrown from a handler: the same as ActionContext::refuse(message, fatal).
class InvalidRequest : public std::runtime_error {
 public:
  explicit InvalidRequest(const std::string& message = "Invalid request", bool fatal = false)
      : std::runtime_error(message), fatal_(fatal) {}
  bool fatal() const noexcept { return fatal_; }

 private:
  bool fatal_;
};

using ActionHandler = std::function<void(ActionContext&)>;

struct Action {
  std::string name;
  Target to = Target::all;
  ActionHandler handler;
};

// The route's defaults are Ratchet's, as the tutorial's Notification component behaves.
struct NotifyOptions {
  bool data_as_string = true;  // `data` sent as a string holding JSON
  bool auth = true;            // connections must present a valid token ([auth])
  uint16_t fatal_close_code = close_code::normal;  // after fatalError ($conn->close(): 1000)
  bool binary_messages = true;  // a binary frame holds the action JSON like a text frame
  std::string unknown_action_message = "Invalid request";  // `error` for an unknown action
};

}  // namespace capstan
