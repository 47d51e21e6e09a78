// The [backend] settings as components use them: the secret resolved once, and the signed
// request every call to the application is.
#include <cstdlib>
#include <ctime>

#include "capstan/backend.hpp"

namespace capstan {

Backend::Backend(const BackendConfig& config)
    : secret_(config.secret), timeout_(config.timeout), max_in_flight_(config.max_in_flight) {
  if (secret_.empty())
    if (const char* env = std::getenv("CAPSTAN_BACKEND_SECRET")) secret_ = env;
}

void write_backend_user(JsonWriter& w, const User* user) {
  if (!user) {
    w.raw("null");
    return;
  }
  w.raw("{\"id\":").integer(user->id).raw(",\"identity\":").string(user->identity).raw(",\"data\":");
  w.raw(user->data.empty() ? std::string_view("null") : std::string_view(user->data)).raw("}");
}

HttpClientRequest Backend::request(std::string url, std::string json) const {
  HttpClientRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("X-Capstan-Signature", backend_signature(json, secret_, static_cast<int64_t>(::time(nullptr))));
  r.headers.emplace_back("User-Agent", "capstan");
  r.body = std::move(json);
  r.timeout = timeout_;
  return r;
}

BackendMetrics::BackendMetrics(std::string_view route) {
  const std::string r(route);
  auto outcome = [&r](const char* name) -> Counter* {
    return &counter("capstan_backend_requests_total", "requests to the web application, by route and outcome",
                    {{"route", r}, {"outcome", name}});
  };
  ok_ = outcome("ok");
  refused_ = outcome("refused");
  failed_ = outcome("failed");
  timeout_ = outcome("timeout");
  unreachable_ = outcome("unreachable");
  busy_ = outcome("busy");
  error_ = outcome("error");
  milliseconds_ = &counter("capstan_backend_request_milliseconds_total",
                           "time spent waiting for the web application, summed, by route", {{"route", r}});
}

void BackendMetrics::count(const Expected<HttpClientResponse>& answer) noexcept {
  if (answer) {
    milliseconds_->add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(answer->elapsed).count()));
    const int status = answer->status;
    (status >= 200 && status < 300 ? ok_ : status >= 400 && status < 500 ? refused_ : failed_)->add();
  } else if (answer.error() == HttpClientError::timeout) {
    timeout_->add();
  } else if (answer.error() == HttpClientError::unreachable) {
    unreachable_->add();
  } else if (answer.error() == HttpClientError::too_many_in_flight) {
    busy_->add();
  } else {
    error_->add();
  }
}

}  // namespace capstan
