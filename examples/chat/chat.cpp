// A chat room as a C++ component: every message goes to everyone connected to this loop.
// (Cross-loop broadcast arrives with the delivery layer; run it with threads = 1 until then.)
#include <capstan/capstan.hpp>

#include <cstdio>
#include <unordered_set>

class Chat final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override { members_.insert(&c); }
  void on_close(capstan::Connection& c, capstan::CloseInfo) override { members_.erase(&c); }
  void on_message(capstan::Connection&, capstan::Message m) override {
    for (capstan::Connection* member : members_) member->send(m.data, m.binary ? capstan::Opcode::binary : capstan::Opcode::text);
  }
  void on_start() override {
    // Timers live on the component's loop: a heartbeat every 30 seconds.
    loop().every(std::chrono::seconds(30), [this] {
      for (capstan::Connection* member : members_) member->send_text("{\"action\":\"heartbeat\",\"data\":\"{}\"}");
    });
  }

 private:
  std::unordered_set<capstan::Connection*> members_;
};

int main() {
  capstan::Config config;
  config.server.listen = {"127.0.0.1:8080"};
  config.server.threads = 1;
  capstan::Server server(config);
  server.route("/chat", [] { return std::make_unique<Chat>(); });
  const capstan::Status ran = server.run();
  if (!ran) std::fprintf(stderr, "chat: %s\n", ran.error().message().c_str());
  return ran ? 0 : 1;
}
