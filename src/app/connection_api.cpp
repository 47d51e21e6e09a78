// The public Connection handle forwards to the connection it is.
#include "app/connection_impl.hpp"
#include "app/connection_output.hpp"
#include "app/connection_parts.hpp"
#include "app/loop_context.hpp"
#include "app/route.hpp"
#include "capstan/form_urlencoded.hpp"
#include "http/request_parser.hpp"
#include "ws/frame_encoder.hpp"

namespace capstan {

bool close_code::may_send(uint16_t code) noexcept { return ws::is_valid_close_code(code); }

namespace {
app::ConnectionImpl& impl(Connection* c) { return *static_cast<app::ConnectionImpl*>(c); }
const app::ConnectionImpl& impl(const Connection* c) { return *static_cast<const app::ConnectionImpl*>(c); }
}  // namespace

SendStatus Connection::send(std::string_view data, Opcode opcode) {
  if (opcode != Opcode::text && opcode != Opcode::binary) return SendStatus::dropped;
  return app::OutputPath::send_message(impl(this), data, opcode);
}

void Connection::pause_reading() noexcept { impl(this).pause_reading(); }
void Connection::resume_reading() noexcept { impl(this).resume_reading(); }

bool Connection::offload(ConnectionJob job) {
  app::ConnectionImpl& c = impl(this);
  return c.context().jobs().offload(c, [job = std::move(job)](db::Database* db, const Error& open_error) {
    std::function<void(Connection&)> then = job(db, open_error);
    return then ? app::Continuation([then = std::move(then)](app::ConnectionImpl& conn) { then(conn); })
                : app::Continuation();
  });
}

size_t Connection::send_to_many(std::span<Connection* const> to, std::string_view data, Opcode opcode) {
  if (to.empty() || (opcode != Opcode::text && opcode != Opcode::binary)) return 0;
  return app::OutputPath::send_to_many(impl(to.front()).context(), to, data, opcode);
}

void Connection::close(uint16_t code, std::string_view reason) {
  // 1005, 1006, 1015 and unassigned codes must never go on the wire (RFC 6455 §7.4.1).
  if (!ws::is_valid_close_code(code)) code = close_code::normal;
  impl(this).start_close(code, reason);
}
void Connection::terminate() { impl(this).close_now(); }
bool Connection::is_open() const noexcept { return impl(this).state() == app::ConnectionImpl::State::open; }

std::string_view Connection::path() const noexcept {
  std::string_view t = impl(this).target_;
  return t.substr(0, t.find('?'));
}

std::string_view Connection::query() const noexcept {
  std::string_view t = impl(this).target_;
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::optional<std::string> Connection::query_param(std::string_view name) const { return form::find(query(), name); }

std::string_view Connection::header(std::string_view name) const noexcept {
  // The handshake, and so its request, lives exactly as long as on_open runs.
  const app::ConnectionImpl& c = impl(this);
  return c.handshake_ && c.state() != app::ConnectionImpl::State::http ? c.handshake_->request.header(name)
                                                                        : std::string_view{};
}

std::string_view Connection::subprotocol() const noexcept {
  const app::ConnectionImpl& c = impl(this);
  if (c.subprotocol_ == app::ConnectionImpl::kNoSubprotocol || !c.route_) return {};
  return c.route_->protocols[c.subprotocol_];
}
const User* Connection::user() const noexcept {
  const auto& extras = impl(this).extras_;
  return extras && extras->user ? &*extras->user : nullptr;
}
std::string Connection::remote_address() const { return impl(this).peer_.to_string(); }
size_t Connection::buffered_amount() const noexcept { return impl(this).pending_output(); }
uint64_t Connection::id() const noexcept { return impl(this).id_; }
Loop& Connection::loop() const noexcept { return impl(this).ctx_.loop(); }

void Connection::set_data(std::unique_ptr<DataBase> data) { impl(this).data_ = std::move(data); }
Connection::DataBase* Connection::get_data() const noexcept { return impl(this).data_.get(); }

}  // namespace capstan
