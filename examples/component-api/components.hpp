// The components of docs/writing-a-component.md, compiled. Each block between
// `// [snippet NAME]` and `// [/snippet]` is quoted in the page as it is here:
// tests/docs/docs_examples_test.cpp fails when the page and this file differ, and drives these
// components through a real Server to check that they do what the page says.
#pragma once

#include <capstan/capstan.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace tour {

// [snippet shout]
class Shout final : public capstan::Component {
 public:
  explicit Shout(int64_t volume = 1) : volume_(volume) {}

  void on_open(capstan::Connection& c) override { c.send_text("welcome"); }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    std::string upper(m.data);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    upper.append(static_cast<size_t>(volume_), '!');
    if (c.send_text(upper) == capstan::SendStatus::backpressure) {
      // over half of limits.send_buffer is waiting: a slow reader, produce less for it
    }
  }
  void on_close(capstan::Connection&, capstan::CloseInfo info) override {
    capstan::log::info("shout closed", {{"code", std::to_string(info.code)}, {"clean", info.clean ? "yes" : "no"}});
  }

 private:
  int64_t volume_;
};
// [/snippet]

// [snippet room]
// Ratchet's `$this->clients = new \SplObjectStorage` and its foreach loop, per event loop.
class Room final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override { members_.push_back(&c); }
  void on_message(capstan::Connection&, capstan::Message m) override {
    // One frame built once for every member of this loop; each member's share leaves with the
    // rest of its output at the end of the loop turn.
    capstan::Connection::send_to_many(members_, m.data);
  }
  void on_close(capstan::Connection& c, capstan::CloseInfo) override { std::erase(members_, &c); }

 private:
  std::vector<capstan::Connection*> members_;  // this loop's connections only
};
// [/snippet]

// [snippet topics]
// The same room across every loop (and, with [cluster] redis, every node): a topic.
class Lobby final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override { topics().subscribe(c, "tour:lobby"); }
  void on_message(capstan::Connection&, capstan::Message m) override {
    topics().publish("tour:lobby", m.data);  // this loop at once, the others by one post each
  }
  // A close leaves every topic by itself.
};
// [/snippet]

// [snippet deadline]
// The client must say "ready" within the deadline, or it is closed with 4008.
class Deadline final : public capstan::Component {
 public:
  explicit Deadline(capstan::Duration limit) : limit_(limit) {}

  void on_open(capstan::Connection& c) override {
    const capstan::TimerId deadline = c.after(limit_, [](capstan::Connection& c) {
      c.close(4008, "no answer in time");
    });
    c.emplace_data<Pending>(Pending{deadline});
  }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    if (m.data != "ready") return;
    if (Pending* p = c.data<Pending>()) c.cancel_timer(p->deadline);  // frees what it captured now
    c.send_text("in time");
  }

 private:
  struct Pending {
    capstan::TimerId deadline;
  };
  capstan::Duration limit_;
};
// [/snippet]

// [snippet offload]
// "product 7": the name from the database, read on a worker thread; the loop never waits.
class Product final : public capstan::Component {
 public:
  void on_message(capstan::Connection& c, capstan::Message m) override {
    const int64_t id = std::atoll(std::string(m.data.substr(m.data.find(' ') + 1)).c_str());
    c.pause_reading();  // this connection's next messages wait for the answer (optional)
    c.offload([id](capstan::db::Database* db, const capstan::Error& open_error) {
      // worker thread: may block
      capstan::Expected<capstan::db::Result> rows =
          db ? db->query("SELECT name FROM product WHERE id = :id", {{"id", capstan::db::Value::of(id)}})
             : capstan::Expected<capstan::db::Result>(open_error);
      return std::function<void(capstan::Connection&)>([rows = std::move(rows)](capstan::Connection& c) {
        c.resume_reading();  // back on the connection's loop; not run if it closed meanwhile
        if (!rows) c.send_text("unavailable: " + rows.error().message());
        else c.send_text(!rows->rows.empty() ? rows->rows[0][0].text : "not found");
      });
    });
  }
};
// [/snippet]

// [snippet ref]
// Work of another thread answers through a ConnectionRef, never a Connection&.
class Later final : public capstan::Component {
 public:
  void on_message(capstan::Connection& c, capstan::Message m) override {
    capstan::ConnectionRef ref = c.ref();
    std::thread([ref, text = std::string(m.data)] {  // any thread, any time later
      ref.post([text](capstan::Connection& c) { c.send_text("later: " + text); });  // nothing if it closed
    }).detach();
  }
};
// [/snippet]

// [snippet query]
// `/greet?nick=bob%20b`: read the query once, in on_open, and keep what you need.
class Greet final : public capstan::Component {
 public:
  void on_open(capstan::Connection& c) override {
    std::optional<std::string> nick = c.query_param("nick");
    if (!nick || nick->empty()) return c.close(capstan::close_code::policy_violation, "nick?");
    c.emplace_data<std::string>(std::move(*nick));
    c.send_text("hello " + *c.data<std::string>());
  }
  void on_message(capstan::Connection& c, capstan::Message m) override {
    c.send_text(*c.data<std::string>() + ": " + std::string(m.data));
  }
};
// [/snippet]

// [snippet endpoint]
class Ping final : public capstan::HttpHandler {
 public:
  void on_request(const capstan::HttpRequest& r, capstan::HttpResponse response) override {
    if (r.header("X-Key") != "k") return response.error(401, "who are you?");
    // Answering later, from a timer here (or a worker, another loop): the handle is copyable,
    // and every member posts itself to the connection's loop when called from another thread.
    loop().after(capstan::Duration(10), [response]() mutable {
      response.send(200, "{\"pong\":true}", "application/json");
    });
  }
};
// [/snippet]

// [snippet http_client]
// Every message is POSTed to a JSON service; its answer goes back to the sender.
class Quote final : public capstan::Component {
 public:
  Quote(std::string url, std::shared_ptr<capstan::InFlightLimit> limit) : url_(std::move(url)), limit_(std::move(limit)) {}

  void on_message(capstan::Connection& c, capstan::Message m) override {
    if (pending_.contains(&c)) {
      c.send_text(R"({"error":"one question at a time"})");
      return;
    }
    capstan::HttpClientRequest r;  // POST by default
    r.url = url_;
    r.headers = {{"Content-Type", "application/json"}, {"X-Key", "k"}};
    r.body = std::string(m.data);
    r.timeout = capstan::Duration(2000);
    capstan::Connection* to = &c;
    pending_[to] = http_client().request(std::move(r), [this, to](capstan::Expected<capstan::HttpClientResponse> answer) {
      pending_.erase(to);  // on the loop's thread, like every callback of this instance
      if (!answer) to->send_text(R"({"error":"the backend did not answer"})");  // answer.error().message() for the log
      else if (answer->status != 200) to->send_text(R"({"error":"the backend refused"})");
      else to->send_text(answer->body);
    }, limit_);
  }
  void on_close(capstan::Connection& c, capstan::CloseInfo) override {
    // The connection is gone once on_close returns: its answer must never come.
    if (auto it = pending_.find(&c); it != pending_.end()) http_client().cancel(it->second);
    pending_.erase(&c);
  }

 private:
  std::string url_;
  std::shared_ptr<capstan::InFlightLimit> limit_;
  std::unordered_map<capstan::Connection*, capstan::RequestId> pending_;
};
// [/snippet]

// [snippet component_type]
// `component = "shout"` in a config file, with a key of its own: `volume = 3`.
class ShoutType final : public capstan::ComponentType {
 public:
  std::vector<capstan::KeyDecl> keys() const override {
    capstan::KeyDecl volume;
    volume.name = "volume";
    volume.type = capstan::KeyType::integer;
    volume.default_text = "1";  // as written in the file; shown by `capstan check --reference`
    volume.help = "exclamation marks after each message";
    volume.min = 0;
    volume.max = 11;  // 12 is a fault that names routes[N].volume and its line
    return {volume};
  }
  capstan::Expected<capstan::ComponentFactory> for_route(const capstan::RouteConfig& route) override {
    const int64_t volume = route.keys.integer("volume", 1);  // the fallback is the default
    return capstan::ComponentFactory([volume] { return std::make_unique<Shout>(volume); });
  }
};
// [/snippet]

// [snippet notify_actions]
// C++ actions of the action protocol, beside the config's relay, sql and http actions.
inline std::vector<capstan::Action> shop_actions() {
  return {
      {"ping", capstan::Target::sender, [](capstan::ActionContext& a) { a.reply("\"pong\""); }},
      {"show", capstan::Target::sender, [](capstan::ActionContext& a) {
         std::optional<int64_t> id = a.data()["id"].as_int();
         if (!id) return a.refuse(std::vector<std::string>{"id: this value should be an integer"});
         if (*id > 100) throw capstan::InvalidRequest("Product not found");  // error, not fatal
         a.reply("{\"id\":" + std::to_string(*id) + ",\"by\":" + capstan::json_quote(a.user() ? a.user()->identity : "guest") + "}");
       }},
      {"shout", capstan::Target::all, [](capstan::ActionContext& a) {
         // reply() goes to the action's target (all: every client of the route, on every loop)
         a.reply(a.data().dump());
       }},
  };
}
// [/snippet]

// [snippet counter]
// A counter in /metrics; made once (it takes a lock), counted from any loop without one.
inline capstan::Counter& shouts_counted() {
  static capstan::Counter& shouts = capstan::counter("tour_shouts_total", "messages shouted", {{"route", "/shout"}});
  return shouts;
}
// [/snippet]

}  // namespace tour
