// The two kinds of action that do more than relay: sql actions, whose query runs on a worker
// and whose rows come back as JSON (dates as KnpTimeBundle renders them), and C++ handlers,
// which get an ActionContext over the message.
#include <algorithm>
#include <ctime>

#include "app/notify/action_json.hpp"
#include "app/notify/notify_component.hpp"
#include "app/notify/relative_time.hpp"
#include "capstan/database.hpp"
#include "capstan/log.hpp"

namespace capstan::app {

namespace {

db::Value to_db_value(const Json& v) {
  switch (v.type()) {
    case Json::Type::string: return db::Value::of(std::string(*v.as_string()));
    case Json::Type::boolean: return db::Value::of(int64_t{*v.as_bool() ? 1 : 0});
    case Json::Type::number:
      if (auto i = v.as_int()) return db::Value::of(*i);
      return db::Value::of(*v.as_double());
    case Json::Type::null:
    case Json::Type::absent: return db::Value::null_value();
    case Json::Type::array:
    case Json::Type::object: return db::Value::of(v.dump());
  }
  return db::Value::null_value();
}

void append_row(std::string& out, const db::Result& result, const std::vector<db::Value>& row, const ActionDef& def,
                int64_t now) {
  JsonWriter json(out, false);
  json.raw("{");
  for (size_t i = 0; i < result.columns.size() && i < row.size(); ++i) {
    if (i) json.raw(",");
    json.string(result.columns[i]);
    json.raw(":");
    const db::Value& v = row[i];
    switch (v.type) {
      case db::Value::Type::null: json.raw("null"); break;
      case db::Value::Type::integer: json.integer(v.integer); break;
      case db::Value::Type::real: json.number(v.real); break;
      case db::Value::Type::text: {
        int64_t when = 0;
        const bool relative = std::find(def.relative_dates.begin(), def.relative_dates.end(), result.columns[i]) !=
                              def.relative_dates.end();
        if (relative && parse_timestamp(v.text, when)) json.string(format_diff(when, now));
        else json.string(v.text);
        break;
      }
    }
  }
  json.raw("}");
}

}  // namespace

void NotifyComponent::run_sql(Connection& c, Entry& entry, const ActionDef& def, const ActionMessage& m, Recipients to) {
  const Json data = JsonAccess::wrap(m.data);
  std::vector<db::Param> params;
  std::vector<std::string> missing;
  for (const std::string& name : def.parameters) {
    Json v = data[name];
    if (!v.exists()) missing.push_back(name + ": this value is required");
    else params.push_back({name, to_db_value(v)});
  }
  if (!missing.empty()) return send_validation_errors(c, missing);

  // The messages behind this one wait for its reply (run_held), so replies keep their order.
  begin_job(c, entry);
  const bool offloaded = c.offload([this, &def, params = std::move(params), to = std::move(to)](db::Database* db,
                                                                         const Error& open_error) mutable {
    Expected<db::Result> queried = db ? db->query(def.query, params) : Expected<db::Result>(open_error);
    const bool ok = queried.has_value();
    const std::string error = ok ? std::string() : queried.error().message();
    std::string json;
    const bool found = ok && (!def.one || !queried->rows.empty());
    if (found) {
      const db::Result& result = *queried;
      const int64_t now = static_cast<int64_t>(::time(nullptr));
      if (def.one) {
        append_row(json, result, result.rows.front(), def, now);
      } else {
        json += '[';
        for (size_t i = 0; i < result.rows.size(); ++i) {
          if (i) json += ',';
          append_row(json, result, result.rows[i], def, now);
        }
        json += ']';
      }
    }
    return std::function<void(Connection&)>([this, &def, ok, found, json = std::move(json), error = std::move(error),
                                             to = std::move(to)](Connection& conn) {
      if (!ok) {
        log::error("sql action failed", {{"action", def.name}, {"reason", error}});
        send_error(conn, "Action failed");
      } else if (!found) {
        send_error(conn, def.not_found);
      } else {
        deliver(conn, def.to, to, def.name, json);
      }
      run_held(conn);
    });
  });
  if (!offloaded) {  // no worker pool: the config check makes sql actions need users.provider
    send_error(c, "Action failed");
    run_held(c);
  }
}

// ---- C++ handlers ----------------------------------------------------------------------------

namespace {

class HandlerContext final : public ActionContext {
 public:
  HandlerContext(NotifyComponent& component, Connection& sender, const ActionDef& def, const ActionMessage& m,
                 const Recipients& to)
      : component_(component), sender_(sender), def_(def), data_(JsonAccess::wrap(m.data)), to_(to) {}

  std::string_view action() const noexcept override { return def_.name; }
  Json data() const noexcept override { return data_; }
  Connection& sender() const noexcept override { return sender_; }

  void reply(std::string_view data_json) override { component_.deliver(sender_, def_.to, to_, def_.name, data_json); }
  void send(Connection& to, std::string_view action, std::string_view data_json) override {
    component_.send_reply(to, action, data_json);
  }
  void send_to_users(std::span<const int64_t> user_ids, std::string_view action, std::string_view data_json) override {
    Recipients r;
    for (int64_t id : user_ids) r.push_back(id_key(id));
    component_.deliver(sender_, Target::users, r, action, data_json);
  }
  void broadcast(std::string_view action, std::string_view data_json) override {
    component_.deliver(sender_, Target::all, {}, action, data_json);
  }
  void refuse(std::string_view message, bool fatal) override {
    if (fatal) component_.fatal(sender_, message, message);
    else component_.send_error(sender_, message);
  }
  void refuse(const std::vector<std::string>& validation_errors) override {
    component_.send_validation_errors(sender_, validation_errors);
  }

 private:
  NotifyComponent& component_;
  Connection& sender_;
  const ActionDef& def_;
  Json data_;
  const Recipients& to_;
};

}  // namespace

void NotifyComponent::run_handler(Connection& c, const ActionDef& def, const ActionMessage& m, Recipients to) {
  HandlerContext context(*this, c, def, m, to);
  try {
    def.handler(context);
  } catch (const InvalidRequest& e) {
    context.refuse(e.what(), e.fatal());
  } catch (const std::exception& e) {
    // As Ratchet's onError for any other exception: fatalError, and the connection ends.
    log::error("action handler failed", {{"action", def.name}, {"reason", e.what()}});
    fatal(c, "Internal error", "handler failed", close_code::internal_error);
  }
}

}  // namespace capstan::app
