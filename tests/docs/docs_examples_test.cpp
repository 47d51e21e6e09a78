// docs/writing-a-component.md quotes examples/component-api/ block by block: each
// `<!-- snippet: FILE#NAME -->` before a ```cpp block names the `// [snippet NAME]` region of
// FILE, and the block must be that region as it is (less its common indentation). The second
// half runs the components through a real Server, as the page describes them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "components.hpp"
#include "test_client.hpp"

using capstan::test::Client;
using capstan::test::eventually;
using capstan::test::upgrade;

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in) << p;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The region NAME of `file`, without its common indentation.
std::string region(const std::string& file, const std::string& name) {
  const std::vector<std::string> lines = lines_of(file);
  std::vector<std::string> body;
  bool inside = false, found = false;
  for (const std::string& line : lines) {
    const auto trimmed = line.substr(std::min(line.find_first_not_of(' '), line.size()));
    if (trimmed == "// [snippet " + name + "]") {
      inside = found = true;
      continue;
    }
    if (inside && trimmed == "// [/snippet]") break;
    if (inside) body.push_back(line);
  }
  EXPECT_TRUE(found) << "no region " << name;
  size_t indent = std::string::npos;
  for (const std::string& l : body)
    if (l.find_first_not_of(' ') != std::string::npos) indent = std::min(indent, l.find_first_not_of(' '));
  std::string out;
  for (const std::string& l : body) out += (l.size() >= indent ? l.substr(indent) : std::string()) + "\n";
  return out;
}

TEST(DocsExamples, ThePageQuotesTheCompiledExamplesAsTheyAre) {
  const std::filesystem::path root = CAPSTAN_SOURCE_DIR;
  const std::string page = read_file(root / "docs" / "writing-a-component.md");
  const std::regex marker(R"(<!-- snippet: ([^#\s]+)#(\w+) -->\n```cpp\n([\s\S]*?)```)");
  std::map<std::string, std::string> files;
  int quoted = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), marker); it != std::sregex_iterator(); ++it) {
    const std::string path = (*it)[1], name = (*it)[2], block = (*it)[3];
    if (!files.contains(path)) files[path] = read_file(root / path);
    EXPECT_EQ(block, region(files[path], name)) << "docs/writing-a-component.md quotes " << path << "#" << name;
    ++quoted;
  }
  EXPECT_GE(quoted, 10) << "the page lost its snippet markers";
  // Every region is quoted somewhere: an example nobody reads is a stale one.
  for (const char* file : {"examples/component-api/components.hpp", "examples/component-api/main.cpp"}) {
    const std::string text = read_file(root / file);
    const std::regex start(R"(// \[snippet ([a-z_]+)\])");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), start); it != std::sregex_iterator(); ++it)
      EXPECT_NE(page.find(std::string("<!-- snippet: ") + file + "#" + (*it)[1].str() + " -->"), std::string::npos)
          << file << "#" << (*it)[1] << " is quoted nowhere";
  }
}

// A server on port 0 serving the examples, on its own thread.
struct Running {
  explicit Running(capstan::Config config, const std::function<void(capstan::Server&)>& routes)
      : server(std::move(config), types()) {
    routes(server);
    runner = std::thread([this] {
      const capstan::Status ran = server.run();
      EXPECT_TRUE(ran) << ran.error().message();
    });
    EXPECT_TRUE(eventually([&] { return server.running() && server.port() != 0; }));
  }
  ~Running() {
    server.stop();
    runner.join();
  }
  static capstan::ComponentTypes types() {
    capstan::ComponentTypes t = capstan::builtin_component_types();
    t["shout"] = std::make_shared<tour::ShoutType>();
    return t;
  }
  capstan::Server server;
  std::thread runner;
};

capstan::Config base_config(unsigned threads = 1) {
  capstan::Config config;
  static int servers = 0;
  config.server.name = capstan::test::unique_server_name() + "-" + std::to_string(++servers);
  config.server.listen = {"127.0.0.1:0"};
  config.server.threads = threads;
  return config;
}

using Frame = std::pair<int, std::string>;

TEST(DocsExamples, ShoutRoomAndLobby) {
  Running r(base_config(2), [](capstan::Server& s) {
    s.route("/shout", [] { return std::make_unique<tour::Shout>(); });
    s.route("/room", [] { return std::make_unique<tour::Room>(); });
    s.route("/lobby", [] { return std::make_unique<tour::Lobby>(); });
  });
  Client shout(r.server.port());
  upgrade(shout, "/shout");
  EXPECT_EQ(shout.read_frame(), (Frame{1, "welcome"}));
  shout.send_text("hi");
  EXPECT_EQ(shout.read_frame(), (Frame{1, "HI!"}));

  // Lobby: a topic reaches every member on either loop, the sender too.
  std::vector<std::unique_ptr<Client>> lobby;
  for (int i = 0; i < 4; ++i) {
    lobby.push_back(std::make_unique<Client>(r.server.port()));
    upgrade(*lobby.back(), "/lobby");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // every on_open has subscribed
  lobby[0]->send_text("to all");
  for (auto& c : lobby) EXPECT_EQ(c->read_frame(), (Frame{1, "to all"}));

  // Room: send_to_many reaches the members of the sender's loop (a one-loop server: all).
  Running one(base_config(1), [](capstan::Server& s) { s.route("/room", [] { return std::make_unique<tour::Room>(); }); });
  Client a(one.server.port()), b(one.server.port());
  upgrade(a, "/room");
  upgrade(b, "/room");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  b.send_text("hello room");
  EXPECT_EQ(a.read_frame(), (Frame{1, "hello room"}));
  EXPECT_EQ(b.read_frame(), (Frame{1, "hello room"}));
}

TEST(DocsExamples, DeadlineLaterAndGreet) {
  Running r(base_config(), [](capstan::Server& s) {
    s.route("/deadline", [] { return std::make_unique<tour::Deadline>(std::chrono::milliseconds(200)); });
    s.route("/later", [] { return std::make_unique<tour::Later>(); });
    s.route("/greet", [] { return std::make_unique<tour::Greet>(); });
  });
  Client slow(r.server.port()), quick(r.server.port());
  upgrade(slow, "/deadline");
  upgrade(quick, "/deadline");
  quick.send_text("ready");
  EXPECT_EQ(quick.read_frame(), (Frame{1, "in time"}));
  const Frame closed = slow.read_frame();
  EXPECT_EQ(closed.first, 8);
  ASSERT_GE(closed.second.size(), 2u);
  EXPECT_EQ((static_cast<unsigned char>(closed.second[0]) << 8) | static_cast<unsigned char>(closed.second[1]), 4008);
  EXPECT_EQ(closed.second.substr(2), "no answer in time");

  Client later(r.server.port());
  upgrade(later, "/later");
  later.send_text("x");
  EXPECT_EQ(later.read_frame(), (Frame{1, "later: x"}));

  Client bob(r.server.port()), nobody(r.server.port());
  upgrade(bob, "/greet?nick=bob%20b");
  EXPECT_EQ(bob.read_frame(), (Frame{1, "hello bob b"}));
  bob.send_text("hi");
  EXPECT_EQ(bob.read_frame(), (Frame{1, "bob b: hi"}));
  upgrade(nobody, "/greet");
  EXPECT_EQ(nobody.read_frame().first, 8);  // 1008 "nick?"
}

TEST(DocsExamples, OffloadReadsTheDatabaseOnAWorker) {
  const std::filesystem::path db = std::filesystem::temp_directory_path() /
                                   ("capstan-docs-" + std::to_string(::getpid()) + ".sqlite");
  std::filesystem::remove(db);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "CREATE TABLE product (id INTEGER PRIMARY KEY, name TEXT); "
                            "INSERT INTO product VALUES (7, 'Capstan mug');", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  {
    capstan::Config config = base_config();
    config.users.provider = capstan::UserProvider::sqlite;
    config.users.database = db.string();
    Running r(std::move(config), [](capstan::Server& s) { s.route("/product", [] { return std::make_unique<tour::Product>(); }); });
    Client c(r.server.port());
    upgrade(c, "/product");
    c.send_text("product 7");
    c.send_text("product 8");  // waits behind the first: reading is paused
    EXPECT_EQ(c.read_frame(), (Frame{1, "Capstan mug"}));
    EXPECT_EQ(c.read_frame(), (Frame{1, "not found"}));
  }
  std::filesystem::remove(db);
  // Without a database the job still runs, with db == nullptr and the reason in open_error.
  Running r(base_config(), [](capstan::Server& s) { s.route("/product", [] { return std::make_unique<tour::Product>(); }); });
  Client c(r.server.port());
  upgrade(c, "/product");
  c.send_text("product 7");
  const Frame f = c.read_frame();
  EXPECT_EQ(f.second.rfind("unavailable: ", 0), 0u) << f.second;
}

TEST(DocsExamples, EndpointAndActions) {
  Running r(base_config(), [](capstan::Server& s) {
    s.handle("/ping", [] { return std::make_unique<tour::Ping>(); }, {.methods = {"POST"}, .max_body = 4096});
    s.notify("/shop", tour::shop_actions(), {.auth = false});
  });
  Client http(r.server.port());
  http.write("POST /ping HTTP/1.1\r\nHost: x\r\nX-Key: k\r\nContent-Length: 0\r\n\r\n");
  const std::string head = http.read_head();
  EXPECT_NE(head.find("200"), std::string::npos) << head;
  Client refused(r.server.port());
  refused.write("POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_NE(refused.read_head().find("401"), std::string::npos);

  Client shop(r.server.port()), other(r.server.port());
  upgrade(shop, "/shop");
  upgrade(other, "/shop");
  shop.send_text(R"({"action":"show","data":{"id":7}})");
  EXPECT_EQ(shop.read_frame(), (Frame{1, R"({"action":"show","data":"{\"id\":7,\"by\":\"guest\"}"})"}));
  shop.send_text(R"({"action":"show","data":{"id":700}})");
  EXPECT_EQ(shop.read_frame(), (Frame{1, R"({"action":"error","data":"{\"message\":\"Product not found\"}"})"}));
  shop.send_text(R"({"action":"show","data":{"id":"x"}})");
  EXPECT_EQ(shop.read_frame(), (Frame{1, R"({"action":"error","data":"[\"id: this value should be an integer\"]"})"}));
  shop.send_text(R"({"action":"shout","data":[1]})");
  EXPECT_EQ(shop.read_frame(), (Frame{1, R"({"action":"shout","data":"[1]"})"}));
  EXPECT_EQ(other.read_frame(), (Frame{1, R"({"action":"shout","data":"[1]"})"}));
}

TEST(DocsExamples, QuoteAsksAnEndpointWithoutBlockingTheLoop) {
  // The endpoint on one server, the Quote component on another that asks it.
  Running backend(base_config(), [](capstan::Server& s) {
    s.handle("/ping", [] { return std::make_unique<tour::Ping>(); }, {.methods = {"POST"}, .max_body = 4096});
    s.route("/shout", [] { return std::make_unique<tour::Shout>(); });  // a server needs a route to start
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(backend.server.port()) + "/ping";
  Running r(base_config(), [&url](capstan::Server& s) {
    auto limit = std::make_shared<capstan::InFlightLimit>(64);
    s.route("/quote", [limit, url] { return std::make_unique<tour::Quote>(url, limit); });
  });
  Client c(r.server.port());
  upgrade(c, "/quote");
  // Two masked text frames in one write, so the second arrives while the first is in flight.
  const auto frame = [](const std::string& payload) {
    std::string f{static_cast<char>(0x81), static_cast<char>(0x80 | payload.size()), 1, 2, 3, 4};
    for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ (1 + (i & 3))));
    return f;
  };
  c.write(frame("{}") + frame("{}"));
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"error":"one question at a time"})"}));
  EXPECT_EQ(c.read_frame(), (Frame{1, R"({"pong":true})"}));
}

TEST(DocsExamples, ShoutTypeReadsItsOwnKey) {
  const capstan::LoadedConfig bad = capstan::load_config_string(
      "[[routes]]\npath = \"/loud\"\ncomponent = \"shout\"\nvolume = 12\n", Running::types());
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].key.find("volume"), std::string::npos) << bad.errors[0].key;
  const capstan::LoadedConfig unknown = capstan::load_config_string(
      "[[routes]]\npath = \"/loud\"\ncomponent = \"shout\"\nvolume = 3\n");  // built-in types only
  EXPECT_FALSE(unknown.ok());

  capstan::LoadedConfig loaded = capstan::load_config_string(
      "[[routes]]\npath = \"/loud\"\ncomponent = \"shout\"\nvolume = 3\n", Running::types());
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].message;
  loaded.config.server = base_config().server;
  Running r(std::move(loaded.config), [](capstan::Server&) {});
  Client c(r.server.port());
  upgrade(c, "/loud");
  EXPECT_EQ(c.read_frame(), (Frame{1, "welcome"}));
  c.send_text("a");
  EXPECT_EQ(c.read_frame(), (Frame{1, "A!!!"}));
}

}  // namespace
