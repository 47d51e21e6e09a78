// capstan/log.hpp as a component uses it: its lines follow the configured format (JSON with
// the fields as members, or text with key=value) and level. The last test runs a real Server
// configured with log_format = "json" and a component that logs from on_open, including a
// query parameter it read with Connection::query_param.
#include "capstan/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "capstan/capstan.hpp"
#include "test_client.hpp"
#include "util/log.hpp"

namespace {

// Sends stderr (fd 2, where every line goes) to a temporary file while it lives.
class CapturedStderr {
 public:
  CapturedStderr() : file_(std::tmpfile()), saved_(::dup(STDERR_FILENO)) {
    ::dup2(::fileno(file_), STDERR_FILENO);
  }
  ~CapturedStderr() {
    restore();
    std::fclose(file_);
  }
  // What was written so far.
  std::string text() {
    std::string out;
    char buf[4096];
    for (off_t at = 0;;) {
      const ssize_t n = ::pread(::fileno(file_), buf, sizeof buf, at);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      at += n;
    }
    return out;
  }
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }

 private:
  std::FILE* file_;
  int saved_;
};

// The server's settings back to the defaults after each test.
class LogTest : public ::testing::Test {
 protected:
  ~LogTest() override { capstan::log::configure(capstan::LogFormat::text, capstan::LogLevel::info); }
};

TEST_F(LogTest, JsonLineWithFieldsAsMembers) {
  capstan::log::configure(capstan::LogFormat::json, capstan::LogLevel::info);
  CapturedStderr err;
  capstan::log::warn("payment \"refused\"", {{"user", "42"}, {"reason", "card\nexpired"}});
  const std::string line = err.text();
  EXPECT_EQ(line.rfind("{\"time\":\"", 0), 0u) << line;
  EXPECT_NE(line.find(",\"level\":\"warn\",\"msg\":\"payment \\\"refused\\\"\",\"user\":\"42\",\"reason\":\"card\\nexpired\"}\n"),
            std::string::npos)
      << line;
}

TEST_F(LogTest, TextLineWithKeyValueFields) {
  capstan::log::configure(capstan::LogFormat::text, capstan::LogLevel::info);
  CapturedStderr err;
  capstan::log::info("joined", {{"user", "42"}, {"room", "lobby"}});
  const std::string line = err.text();
  EXPECT_NE(line.find(" info joined user=42 room=lobby\n"), std::string::npos) << line;
}

TEST_F(LogTest, BelowTheLevelNothingIsWritten) {
  capstan::log::configure(capstan::LogFormat::text, capstan::LogLevel::warn);
  CapturedStderr err;
  EXPECT_FALSE(capstan::log::enabled(capstan::log::Level::info));
  EXPECT_TRUE(capstan::log::enabled(capstan::log::Level::error));
  capstan::log::debug("not written");
  capstan::log::info("not written");
  capstan::log::error("written");
  const std::string text = err.text();
  EXPECT_EQ(text.find("not written"), std::string::npos) << text;
  EXPECT_NE(text.find(" error written\n"), std::string::npos) << text;
}

class Greeter final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override {
    const std::optional<std::string> nick = c.query_param("nick");
    capstan::log::info("greeted", {{"nick", nick ? *nick : "-"}});
    c.send_text(nick ? *nick : "-");
  }
  void on_message(capstan::Connection&, capstan::Message) override {}
};

TEST_F(LogTest, AComponentOfAServerConfiguredForJsonLogsJson) {
  capstan::Config config;
  config.server.name = capstan::test::unique_server_name();
  config.server.listen = {"127.0.0.1:0"};
  config.server.threads = 1;
  config.server.log_format = capstan::LogFormat::json;  // applied by Server::run
  CapturedStderr err;
  capstan::Server server(config);
  server.route("/greet", [] { return std::make_unique<Greeter>(); });
  std::thread runner([&] { EXPECT_TRUE(server.run()); });
  ASSERT_TRUE(capstan::test::eventually([&] { return server.running() && server.port() != 0; }));
  {
    capstan::test::Client client(server.port());
    capstan::test::upgrade(client, "/greet?room=1&nick=bob%20b+%C3%A9&nick=second");
    EXPECT_EQ(client.read_frame(), (std::pair<int, std::string>{1, "bob b \xC3\xA9"}));
  }
  const bool logged = capstan::test::eventually([&] { return err.text().find("\"msg\":\"greeted\"") != std::string::npos; });
  server.stop();
  runner.join();
  const std::string text = err.text();
  err.restore();
  ASSERT_TRUE(logged) << text;
  EXPECT_NE(text.find("\"level\":\"info\",\"msg\":\"greeted\",\"nick\":\"bob b \xC3\xA9\"}\n"), std::string::npos) << text;
}

}  // namespace
