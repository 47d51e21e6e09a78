#include "app/http_endpoints.hpp"

#include "app/component_attach.hpp"
#include "app/loop_context.hpp"

namespace capstan::app {

namespace {

// A read-only page of the server's state, made by `render` from the loop's context.
class StatePage final : public HttpHandler {
 public:
  using Render = void (*)(LoopContext&, std::string&);
  StatePage(Render render, std::string_view type) : render_(render), type_(type) {}
  void on_request(const HttpRequest&, HttpResponse response) override {
    std::string body;
    render_(HandlerAttach::context_of(*this), body);
    response.send(200, body, type_);
  }

 private:
  Render render_;
  std::string_view type_;
};

void healthz(LoopContext&, std::string& body) { body = "ok\n"; }

Endpoint page(std::string path, StatePage::Render render, std::string_view type) {
  return {std::move(path), [render, type] { return std::make_unique<StatePage>(render, type); }, {}};
}

}  // namespace

std::vector<Endpoint> server_endpoints() {
  return {page("/healthz", healthz, "text/plain; charset=utf-8"),
          page("/status", append_status_json, "application/json"),
          page("/metrics", append_metrics_text, "text/plain; version=0.0.4; charset=utf-8")};
}

}  // namespace capstan::app
