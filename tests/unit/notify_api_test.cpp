// The C++ side of the action protocol, in process: Server::notify with handlers, the Json
// view of `data`, replies, refusals (returned and thrown), validation errors, and the user a
// verified token attaches. A real server on its own thread, driven by a raw socket.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "auth/jwt.hpp"
#include "capstan/capstan.hpp"
#include "test_client.hpp"

using capstan::test::Client;
using capstan::test::eventually;

namespace {

constexpr const char* kSecret = "notify-api-test-secret-0123456789";

std::vector<capstan::Action> handlers() {
  using capstan::ActionContext;
  using capstan::Target;
  return {
      {"sum", Target::sender,
       [](ActionContext& a) {
         auto x = a.data()["terms"][0].as_int(), y = a.data()["terms"][1].as_int();
         if (!x || !y) return a.refuse(std::vector<std::string>{"terms: two integers expected"});
         a.reply("{\"sum\":" + std::to_string(*x + *y) + "}");
       }},
      {"describe", Target::sender,
       [](ActionContext& a) {
         const capstan::Json d = a.data();
         std::string out = "{\"size\":" + std::to_string(d.size());
         out += ",\"name\":" + capstan::json_quote(d["name"].as_string().value_or("?"));
         out += ",\"flag\":" + std::string(d["flag"].as_bool().value_or(false) ? "true" : "false");
         out += ",\"ratio\":" + std::to_string(static_cast<int>(d["ratio"].as_double().value_or(0) * 10));
         out += ",\"absent\":" + std::string(d["no"]["such"][3].exists() ? "true" : "false");
         out += ",\"not_int\":" + std::string(d["ratio"].as_int() ? "true" : "false");
         out += ",\"raw\":" + d["list"].dump() + "}";
         a.reply(out);
       }},
      {"whoami", Target::sender, [](ActionContext& a) { a.reply(capstan::json_quote(a.user()->identity)); }},
      {"thrown", Target::sender, [](ActionContext&) { throw capstan::InvalidRequest("Vous ne pouvez pas"); }},
      {"fatal", Target::sender, [](ActionContext& a) { a.refuse("Gone for good", true); }},
  };
}

struct NotifyServer {
  capstan::Server server;
  std::thread runner;
  explicit NotifyServer(capstan::Config config) : server(std::move(config)) {
    server.notify("/actions", handlers());
    runner = std::thread([this] { const capstan::Status ran = server.run(); EXPECT_TRUE(ran) << ran.error().message(); });
    EXPECT_TRUE(eventually([&] { return server.running() && server.port() != 0; }));
  }
  ~NotifyServer() {
    server.stop();
    runner.join();
  }
};

capstan::Config hs256_config() {
  capstan::Config config;
  config.server.name = capstan::test::unique_server_name();
  config.server.listen = {"127.0.0.1:0"};
  config.server.threads = 1;
  config.auth.algorithms = {"HS256"};
  config.auth.secret = kSecret;
  return config;
}

std::string token_for(const std::string& username) {
  capstan::Expected<std::string> token =
      capstan::auth::sign_token(hs256_config().auth, "", "{\"username\":\"" + username + "\",\"exp\":4102444800}");
  if (!token) {
    ADD_FAILURE() << token.error().message();
    return {};
  }
  return std::move(*token);
}

using Frame = std::pair<int, std::string>;

}  // namespace

TEST(NotifyApi, HandlersReadDataAndReply) {
  NotifyServer s(hs256_config());
  Client c(s.server.port());
  capstan::test::upgrade(c, "/actions?token=" + token_for("alice@example.com"));
  c.send_text(R"({"action":"sum","data":{"terms":[40,2]}})");
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"action":"sum","data":"{\"sum\":42}"})"}));
  c.send_text(R"({"action":"describe","data":{"name":"mug","flag":true,"ratio":1.5,"list":[1,"a",null]}})");
  EXPECT_EQ(c.read_frame(),
            (Frame{1, R"({"action":"describe","data":"{\"size\":4,\"name\":\"mug\",\"flag\":true,\"ratio\":15,)"
                      R"(\"absent\":false,\"not_int\":false,\"raw\":[1,\"a\",null]}"})"}));
  c.send_text(R"({"action":"whoami","data":{}})");
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"action":"whoami","data":"\"alice@example.com\""})"}));
}

TEST(NotifyApi, RefusalsReturnedAndThrown) {
  NotifyServer s(hs256_config());
  Client c(s.server.port());
  capstan::test::upgrade(c, "/actions?token=" + token_for("bob@example.com"));
  c.send_text(R"({"action":"sum","data":{"terms":["x"]}})");
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"action":"error","data":"[\"terms: two integers expected\"]"})"}));
  c.send_text(R"({"action":"thrown","data":1})");
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"action":"error","data":"{\"message\":\"Vous ne pouvez pas\"}"})"}));
  c.send_text(R"({"action":"fatal","data":1})");
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"action":"fatalError","data":"{\"message\":\"Gone for good\"}"})"}));
  auto [op, payload] = c.read_frame();
  EXPECT_EQ(op, 8);
  ASSERT_GE(payload.size(), 2u);
  EXPECT_EQ((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]), 1000);  // NotifyOptions::fatal_close_code: Ratchet's $conn->close()
}

TEST(NotifyApi, ABadTokenIsRefusedAfterTheHandshake) {
  NotifyServer s(hs256_config());
  Client c(s.server.port());
  capstan::test::upgrade(c, "/actions?token=not.a.token");
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"action":"fatalError","data":"{\"message\":\"Invalid request\"}"})"}));
  EXPECT_EQ(c.read_frame().first, 8);
}
