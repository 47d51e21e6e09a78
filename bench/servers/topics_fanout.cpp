// topics_fanout: Capstan's topics (capstan/topics.hpp) under the fan-out benchmark, doing what
// bench/node/bun_fanout.js does with Bun's pub/sub: every connection subscribes to the topic
// "all", and each message is published to it as it came in (the publisher receives it too).
// Built with the library as a user's program would be; bench/fanout.sh runs it as "topics".
//
// usage: capstan_topics_fanout PORT [THREADS]    (PORT 0: any free port, as the log says;
// tests/integration/test_topics.py runs it that way with real clients)
#include <capstan/capstan.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

class AllTopic final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override { topics().subscribe(c, "all"); }
  void on_message(capstan::Connection&, capstan::Message m) override {
    topics().publish("all", m.data, m.binary ? capstan::Opcode::binary : capstan::Opcode::text);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : -1;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: capstan_topics_fanout PORT [THREADS]\n");
    return 2;
  }
  capstan::Config config;
  config.server.name = "capstan-topics-fanout-" + std::to_string(port);
  config.server.listen = {"127.0.0.1:" + std::to_string(port)};
  config.server.threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
  config.limits.max_connections = 200000;
  config.limits.connections_per_ip = 1000000;
  config.limits.messages_per_second = 0;
  config.compression.enabled = false;
  capstan::Server server(config);
  server.route("/", [] { return std::make_unique<AllTopic>(); });
  const capstan::Status ran = server.run();
  if (!ran) std::fprintf(stderr, "topics_fanout: %s\n", ran.error().message().c_str());
  return ran ? 0 : 1;
}
