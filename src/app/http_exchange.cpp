// The answer to a plain HTTP request, written into the connection as the handles ask: whole,
// or as a stream of chunks; and the public HttpResponse, which gets here on the connection's
// loop, posting when it is called from another thread.
#include "app/http_exchange.hpp"

#include "app/http_phase.hpp"
#include "net/event_loop.hpp"
#include "net/guarded.hpp"
#include "util/strings.hpp"
#include "util/log.hpp"

namespace capstan {

namespace {

bool header_safe(std::string_view text) noexcept { return text.find_first_of("\r\n") == std::string_view::npos; }

// Runs `fn(exchange)` on the exchange's loop: here when called there, else posted.
template <class Fn>
void on_loop(const std::shared_ptr<HttpExchange>& exchange, Fn&& fn) {
  if (!exchange || exchange->finished.load(std::memory_order_acquire)) return;
  if (exchange->loop.on_own_thread()) return fn(*exchange);
  exchange->loop.post_task([exchange, fn = std::forward<Fn>(fn)]() mutable { fn(*exchange); });
}

void append_hex(std::string& out, size_t n) {
  char digits[16];
  size_t i = sizeof digits;
  do {
    digits[--i] = "0123456789abcdef"[n & 15];
    n >>= 4;
  } while (n);
  out.append(digits + i, sizeof digits - i);
}

}  // namespace

std::string HttpExchange::header_lines(const HttpHeaders& headers) {
  std::string lines;
  for (const auto& [name, value] : headers) {
    if (name.empty() || !header_safe(name) || !header_safe(value)) {
      log::warn("http: a response header with CR or LF was left out", {{"name", name}});
      continue;
    }
    lines.append(name).append(": ").append(value).append("\r\n");
  }
  return lines;
}

void HttpExchange::send(uint16_t status, std::string_view body, std::string_view content_type, const HttpHeaders& headers,
                        bool close_after) {
  if (stage != Stage::unanswered || !connection) return;
  if (close_after) keep_alive = false;
  std::string out;
  out.reserve(160 + body.size());
  http::append_head(out, status, content_type, http::BodyLength::fixed, body.size(), keep_alive, header_lines(headers));
  if (!head) out.append(body);
  app::HttpPhase::write_response(*connection, out);
  complete();
}

void HttpExchange::start(uint16_t status, std::string_view content_type, const HttpHeaders& headers) {
  if (stage != Stage::unanswered || !connection) return;
  // An HTTP/1.0 client knows no chunks: the stream ends with the connection.
  if (http10) keep_alive = false;
  std::string out;
  http::append_head(out, status, content_type, http10 ? http::BodyLength::until_close : http::BodyLength::chunked, 0,
                    keep_alive, header_lines(headers));
  app::HttpPhase::write_response(*connection, out);
  stage = Stage::streaming;
  if (head) complete();
}

void HttpExchange::write(std::string_view piece) {
  if (stage != Stage::streaming || !connection || piece.empty()) return;
  if (http10) return app::HttpPhase::write_response(*connection, piece);
  std::string out;
  out.reserve(piece.size() + 20);
  append_hex(out, piece.size());
  out.append("\r\n").append(piece).append("\r\n");
  app::HttpPhase::write_response(*connection, out);
}

void HttpExchange::end() {
  if (stage != Stage::streaming || !connection) return;
  if (!http10) app::HttpPhase::write_response(*connection, "0\r\n\r\n");
  complete();
}

void HttpExchange::complete() {
  stage = Stage::done;
  finished.store(true, std::memory_order_release);
  app::ConnectionImpl* c = connection;
  if (!c) return;  // the write just made dropped the connection (its send buffer was full)
  connection = nullptr;
  on_abort = nullptr;
  app::HttpPhase::response_complete(*c, keep_alive);
}

void HttpExchange::detach() noexcept {
  if (!connection) return;
  connection = nullptr;
  finished.store(true, std::memory_order_release);
  if (stage != Stage::done && on_abort) {
    auto fn = std::move(on_abort);
    net::run_guarded(fn, "http on_abort");
  }
}

void HttpResponse::send(uint16_t status, std::string_view body, std::string_view content_type, const HttpHeaders& headers) {
  if (exchange_ && exchange_->loop.on_own_thread()) return exchange_->finished ? void() : exchange_->send(status, body, content_type, headers);
  on_loop(exchange_, [status, body = std::string(body), type = std::string(content_type), headers](HttpExchange& e) {
    e.send(status, body, type, headers);
  });
}

void HttpResponse::error(uint16_t status, std::string_view reason) {
  std::string body(reason);
  body.push_back('\n');
  on_loop(exchange_, [status, body = std::move(body)](HttpExchange& e) {
    e.send(status, body, "text/plain; charset=utf-8", {}, /*close_after=*/true);
  });
}

void HttpResponse::start(uint16_t status, std::string_view content_type, const HttpHeaders& headers) {
  on_loop(exchange_, [status, type = std::string(content_type), headers](HttpExchange& e) { e.start(status, type, headers); });
}

void HttpResponse::write(std::string_view piece) {
  if (exchange_ && exchange_->loop.on_own_thread()) return exchange_->finished ? void() : exchange_->write(piece);
  on_loop(exchange_, [piece = std::string(piece)](HttpExchange& e) { e.write(piece); });
}

void HttpResponse::end() {
  on_loop(exchange_, [](HttpExchange& e) { e.end(); });
}

bool HttpResponse::finished() const noexcept { return !exchange_ || exchange_->finished.load(std::memory_order_acquire); }

void HttpResponse::on_abort(std::function<void()> fn) {
  if (exchange_ && !exchange_->finished) exchange_->on_abort = std::move(fn);
}

std::string_view HttpRequest::header(std::string_view name) const noexcept {
  for (const HttpHeader& h : headers)
    if (util::iequals(h.name, name)) return h.value;
  return {};
}

std::vector<std::string_view> HttpRequest::header_values(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HttpHeader& h : headers)
    if (util::iequals(h.name, name)) values.push_back(h.value);
  return values;
}

}  // namespace capstan
