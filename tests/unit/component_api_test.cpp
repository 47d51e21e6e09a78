// The C++ component API end to end, in process: a real Server on its own thread serving a
// probe component, driven by a raw socket. Checks what a component sees (path, query, headers
// during on_open, subprotocol, remote address, user data, timers, close info) and stop().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "capstan/capstan.hpp"
#include "test_client.hpp"

using capstan::test::Client;
using capstan::test::eventually;

namespace {

struct Seen {
  std::mutex m;
  std::string path, query, header, late_header, protocol, remote;
  uint16_t close_code = 0;
  bool close_clean = false;
  std::atomic<bool> started{false}, timer_fired{false}, closed{false}, shutdown{false}, reloaded{false};
};

struct Counter {
  int messages = 0;
};

class Probe final : public capstan::Component {
 public:
  explicit Probe(Seen& seen) : seen_(seen) {}
  void on_start() override {
    seen_.started = true;
    loop().after(std::chrono::milliseconds(5), [this] { seen_.timer_fired = true; });
  }
  void on_open(capstan::Connection& c) override {
    std::lock_guard lock(seen_.m);
    seen_.path = c.path();
    seen_.query = c.query();
    seen_.header = c.header("X-Probe");
    seen_.protocol = c.subprotocol();
    seen_.remote = c.remote_address();
    c.emplace_data<Counter>();
    c.send_text("welcome");
  }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    Counter* counter = c.data<Counter>();
    ASSERT_NE(counter, nullptr);
    ++counter->messages;
    {
      std::lock_guard lock(seen_.m);
      seen_.late_header = c.header("X-Probe");  // headers are gone after on_open
    }
    if (m.data == "bye") c.close(4001, "asked");
    else c.send_text(std::string(m.data) + "#" + std::to_string(counter->messages));
  }
  void on_close(capstan::Connection&, capstan::CloseInfo info) override {
    std::lock_guard lock(seen_.m);
    seen_.close_code = info.code;
    seen_.close_clean = info.clean;
    seen_.closed = true;
  }
  void on_shutdown() override { seen_.shutdown = true; }
  void on_reload() override { seen_.reloaded = true; }

 private:
  Seen& seen_;
};

}  // namespace

TEST(ComponentApi, WhatAComponentSeesFromOpenToClose) {
  Seen seen;
  capstan::Config config;
  config.server.name = capstan::test::unique_server_name();
  config.server.listen = {"127.0.0.1:0"};
  config.server.threads = 1;
  capstan::Server server(config);
  server.route("/probe", [&seen] { return std::make_unique<Probe>(seen); }, {{"v2.probe", "v1.probe"}});
  std::thread runner([&server] { const capstan::Status ran = server.run(); EXPECT_TRUE(ran) << ran.error().message(); });
  ASSERT_TRUE(eventually([&] { return server.running() && server.port() != 0; }));
  EXPECT_TRUE(seen.started);
  EXPECT_TRUE(eventually([&] { return seen.timer_fired.load(); }));

  {
    Client c(server.port());
    c.write("GET /probe?room=7&x=y HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: v1.probe, v2.probe\r\nX-Probe: hello\r\n\r\n");
    std::string head = c.read_head();
    EXPECT_NE(head.find("101 Switching Protocols"), std::string::npos) << head;
    EXPECT_NE(head.find("Sec-WebSocket-Protocol: v1.probe\r\n"), std::string::npos) << head;  // the client's order
    EXPECT_EQ(c.read_frame(), (std::pair<int, std::string>{1, "welcome"}));
    c.send_text("a");
    EXPECT_EQ(c.read_frame(), (std::pair<int, std::string>{1, "a#1"}));
    c.send_text("b");
    EXPECT_EQ(c.read_frame(), (std::pair<int, std::string>{1, "b#2"}));  // user data persists
    c.send_text("bye");
    auto [op, payload] = c.read_frame();
    EXPECT_EQ(op, 8);
    ASSERT_GE(payload.size(), 2u);
    EXPECT_EQ((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]), 4001);
    EXPECT_EQ(payload.substr(2), "asked");
    // Answer the close as a client does: the server's on_close then sees a clean 4001.
    std::string close_frame{static_cast<char>(0x88), static_cast<char>(0x82), 0, 0, 0, 0,
                            static_cast<char>(0x0F), static_cast<char>(0xA1)};
    c.write(close_frame);
    EXPECT_EQ(c.read_frame().first, -1);  // the server half-closes: EOF, and we hang up too
  }
  EXPECT_TRUE(eventually([&] { return seen.closed.load(); }));
  {
    std::lock_guard lock(seen.m);
    EXPECT_EQ(seen.path, "/probe");
    EXPECT_EQ(seen.query, "room=7&x=y");
    EXPECT_EQ(seen.header, "hello");
    EXPECT_EQ(seen.late_header, "");
    EXPECT_EQ(seen.protocol, "v1.probe");
    EXPECT_EQ(seen.remote.rfind("127.0.0.1:", 0), 0u) << seen.remote;
    EXPECT_EQ(seen.close_code, 4001);
    EXPECT_TRUE(seen.close_clean);
  }
  server.stop();
  runner.join();
  EXPECT_TRUE(seen.shutdown);
  EXPECT_FALSE(server.running());
}

TEST(ComponentApi, ReloadReachesComponents) {
  Seen seen;
  char path[] = "/tmp/capstan-reload-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 2\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  capstan::LoadedConfig loaded = capstan::load_config_file(path);
  ASSERT_TRUE(loaded.ok());
  loaded.config.server.name = capstan::test::unique_server_name();
  capstan::Server server(loaded.config);
  server.route("/probe", [&seen] { return std::make_unique<Probe>(seen); });
  std::thread runner([&server] { const capstan::Status ran = server.run(); EXPECT_TRUE(ran) << ran.error().message(); });
  ASSERT_TRUE(eventually([&] { return server.running() && server.port() != 0; }));
  server.reload();
  EXPECT_TRUE(eventually([&] { return seen.reloaded.load(); }));
  server.stop();
  runner.join();
  ::unlink(path);
}

// A program's type with a key of its own: declared, loaded through the program's map of types,
// read back in for_route (which here refuses, to show what it read without a client).
class Greeter final : public capstan::ComponentType {
 public:
  std::vector<capstan::KeyDecl> keys() const override {
    return {{.name = "greeting", .default_text = "\"hello\"", .help = "sent on open"}};
  }
  capstan::Expected<capstan::ComponentFactory> for_route(const capstan::RouteConfig& route) override {
    return capstan::Error(capstan::ConfigError::invalid, "greeting: " + route.keys.text("greeting", "hello"));
  }
};

TEST(ComponentApi, AProgramsTypeReadsTheKeysItDeclares) {
  capstan::ComponentTypes types = capstan::builtin_component_types();
  types["greeter"] = std::make_shared<Greeter>();
  const std::string text = "[server]\nlisten = \"127.0.0.1:0\"\n[[routes]]\npath = \"/g\"\ncomponent = \"greeter\"\ngreeting = \"hi\"\n";
  EXPECT_FALSE(capstan::load_config_string(text).ok());  // the built-in types do not know it
  capstan::LoadedConfig loaded = capstan::load_config_string(text, types);
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().message;
  loaded.config.server.name = capstan::test::unique_server_name();
  capstan::Server server(loaded.config, types);
  const capstan::Status ran = server.run();
  ASSERT_FALSE(ran);
  EXPECT_EQ(ran.error().message(), "route /g: greeting: hi");
}

// A component type that takes its keys from the route, and refuses a route without them.
class NeedsProtocols final : public capstan::ComponentType {
 public:
  capstan::Expected<capstan::ComponentFactory> for_route(const capstan::RouteConfig& route) override {
    if (route.protocols.empty()) return capstan::Error(capstan::ConfigError::missing, "protocols: this type needs one");
    return capstan::ComponentFactory([] { return std::unique_ptr<capstan::Component>(); });
  }
};

TEST(ComponentApi, WhyAServerCannotStartIsItsErrorCode) {
  capstan::Config config;
  config.server.name = capstan::test::unique_server_name();
  config.server.listen = {"127.0.0.1:0"};
  config.server.threads = 1;
  capstan::RouteConfig route;
  route.path = "/typed";
  route.component = "needs-protocols";
  config.routes.push_back(route);
  {
    capstan::Server server(config);
    server.register_component_type("needs-protocols", std::make_shared<NeedsProtocols>());
    const capstan::Status ran = server.run();
    ASSERT_FALSE(ran);
    EXPECT_EQ(ran.error(), capstan::ConfigError::missing);  // the type's own code, kept
    EXPECT_EQ(ran.error().message(), "route /typed: protocols: this type needs one");
  }
  {
    config.routes[0].component = "nonesuch";
    capstan::Server server(config);
    const capstan::Status ran = server.run();
    ASSERT_FALSE(ran);
    EXPECT_EQ(ran.error(), capstan::ConfigError::not_a_choice);
  }
  {
    config.routes.clear();
    capstan::Server server(config);
    const capstan::Status ran = server.run();
    ASSERT_FALSE(ran);
    EXPECT_EQ(ran.error(), capstan::ConfigError::missing);
    EXPECT_EQ(ran.error().message(), "no routes configured");
  }
  {
    // An address another socket listens on.
    const int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(taken, 1), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(taken, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const std::string listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    config.routes.push_back(route);
    config.routes[0].component = "echo";
    config.server.listen = {listen};
    capstan::Server server(config);
    const capstan::Status ran = server.run();
    ::close(taken);
    ASSERT_FALSE(ran);
    EXPECT_EQ(ran.error(), std::errc::address_in_use) << ran.error().message();
    EXPECT_EQ(ran.error().message(), "cannot listen on " + listen + ": address already in use");
  }
}
