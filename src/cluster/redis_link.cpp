#include "cluster/redis_link.hpp"

#include <charconv>

#include "capstan/log.hpp"
#include "capstan/redis.hpp"

namespace capstan::cluster {

RedisLink::RedisLink(Loop& loop, RedisAddress address, std::string name, std::function<void()> on_connected,
                     std::function<void(std::string_view)> on_lost)
    : loop_(loop), address_(std::move(address)), name_(std::move(name)), on_connected_(std::move(on_connected)),
      on_lost_(std::move(on_lost)) {}

RedisLink::~RedisLink() {
  stopping_ = true;
  if (retry_) loop_.cancel(retry_);
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    ac->data = nullptr;  // its callbacks find no link
    redisAsyncFree(ac);  // runs the pending reply callbacks with null, then cleanup
  }
  watch_.close();
}

void RedisLink::start() { connect(); }

void RedisLink::connect() {
  retry_ = 0;
  if (stopping_) return;
  ac_ = redisAsyncConnect(address_.host.c_str(), address_.port);
  if (!ac_ || ac_->err) {
    const std::string why = ac_ ? ac_->errstr : "out of memory";
    if (ac_) redisAsyncFree(ac_);
    ac_ = nullptr;
    return lost(why);
  }
  ac_->data = this;
  attach();
  redisAsyncSetConnectCallback(ac_, &RedisLink::on_connect);
  redisAsyncSetDisconnectCallback(ac_, &RedisLink::on_disconnect);
}

// hiredis' event hooks, onto a Watch of the loop.
void RedisLink::attach() {
  redisAsyncContext* ac = ac_;
  watch_ = Watch(
      loop_, ac->c.fd, [ac] { redisAsyncHandleRead(ac); }, [ac] { redisAsyncHandleWrite(ac); });
  ac->ev.data = this;
  ac->ev.addRead = [](void* p) { static_cast<RedisLink*>(p)->watch_.want_read(true); };
  ac->ev.delRead = [](void* p) { static_cast<RedisLink*>(p)->watch_.want_read(false); };
  ac->ev.addWrite = [](void* p) { static_cast<RedisLink*>(p)->watch_.want_write(true); };
  ac->ev.delWrite = [](void* p) { static_cast<RedisLink*>(p)->watch_.want_write(false); };
  ac->ev.cleanup = [](void* p) { static_cast<RedisLink*>(p)->watch_.close(); };
}

void RedisLink::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (!self) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback.
    self->ac_ = nullptr;
    return self->lost(ac->errstr ? ac->errstr : "connect failed");
  }
  self->connected_ = true;
  self->backoff_ms_ = 100;
  log::info("cluster: connected to redis", {{"link", self->name_}});
  if (self->on_connected_) self->on_connected_();
}

void RedisLink::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisLink*>(ac->data);
  if (!self) return;
  self->ac_ = nullptr;  // hiredis frees it after this callback
  self->lost(status == REDIS_OK ? "disconnected" : (ac->errstr ? ac->errstr : "connection lost"));
}

void RedisLink::lost(std::string_view why) {
  const bool was = connected_;
  connected_ = false;
  replies_.clear();
  if (stopping_) return;
  if (was || backoff_ms_ == 100)
    log::warn("cluster: redis unreachable, retrying", {{"link", name_}, {"reason", why}, {"retry_ms", std::to_string(backoff_ms_)}});
  if (on_lost_) on_lost_(why);
  retry_ = loop_.after(Duration(backoff_ms_), [this] { connect(); });
  backoff_ms_ = std::min<uint32_t>(backoff_ms_ * 2, 5000);
}

void RedisLink::on_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto* fn = static_cast<Reply*>(privdata);
  if (fn && *fn) (*fn)(static_cast<redisReply*>(reply));
}

bool RedisLink::command(const std::vector<std::string_view>& argv, Reply reply) {
  if (!connected_ || !ac_) return false;
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (std::string_view a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  Reply* fn = nullptr;
  if (reply) fn = replies_.emplace_back(std::make_unique<Reply>(std::move(reply))).get();
  return redisAsyncCommandArgv(ac_, fn ? &RedisLink::on_reply : nullptr, fn, static_cast<int>(args.size()), args.data(),
                               lengths.data()) == REDIS_OK;
}

}  // namespace capstan::cluster

namespace capstan {

class RedisClient::Link : public cluster::RedisLink {
 public:
  using cluster::RedisLink::RedisLink;
};

RedisClient::RedisClient(Loop& loop, std::string_view url, std::string name, std::function<void()> on_connected,
                         std::function<void(std::string_view)> on_lost) {
  cluster::RedisAddress address;
  cluster::parse_redis_url(url, address);
  link_ = std::make_unique<Link>(loop, std::move(address), std::move(name), std::move(on_connected), std::move(on_lost));
}

RedisClient::~RedisClient() = default;

Status RedisClient::check_url(std::string_view url) {
  cluster::RedisAddress address;
  if (!cluster::parse_redis_url(url, address)) return Error(ConfigError::invalid, "expected \"redis://HOST:PORT\", got \"" + std::string(url) + "\"");
  return {};
}

void RedisClient::start() { link_->start(); }
bool RedisClient::connected() const noexcept { return link_->connected(); }
bool RedisClient::command(const std::vector<std::string_view>& argv, Reply reply) {
  return link_->command(argv, std::move(reply));
}

}  // namespace capstan
