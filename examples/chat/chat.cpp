// A chat server as a C++ component: rooms chosen by the query (`/chat?room=lobby&nick=bob`),
// every message to everyone in the room, on every loop: the room is a topic (topics.hpp), so
// the server may run as many threads as it likes.
#include <capstan/capstan.hpp>

#include <cstdio>
#include <string>

class Chat final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override {
    const std::string room = "chat:" + c.query_param("room").value_or("lobby");
    topics().subscribe(c, room);
    topics().subscribe(c, "heartbeat");  // not "chat:...": no room can take its name
    c.emplace_data<Member>(Member{room});
  }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    // One publish: this loop's members at once, the other loops' through one post each.
    topics().publish(c.data<Member>()->room, m.data, m.binary ? capstan::Opcode::binary : capstan::Opcode::text);
  }
  void on_start() override {
    // Timers live on the component's loop; each loop's instance publishes to its own members
    // only, so every member hears one heartbeat.
    loop().every(std::chrono::seconds(30), [this] {
      topics().publish_here("heartbeat", "{\"action\":\"heartbeat\",\"data\":\"{}\"}");
    });
  }

 private:
  struct Member {
    std::string room;
  };
};

int main() {
  capstan::Config config;
  config.server.listen = {"127.0.0.1:8080"};
  config.server.threads = 2;
  capstan::Server server(config);
  server.route("/chat", [] { return std::make_unique<Chat>(); });
  const capstan::Status ran = server.run();
  if (!ran) std::fprintf(stderr, "chat: %s\n", ran.error().message().c_str());
  return ran ? 0 : 1;
}
