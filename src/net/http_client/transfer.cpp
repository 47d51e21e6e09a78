#include "net/http_client/transfer.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

namespace capstan::net {

namespace {

// Each header line curl hands over is bounded by curl; their number is not.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

// RFC 9110 §5.6.2: what a method or a header name is made of.
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// A value must not end the line it is on (header injection) nor the C string curl reads.
bool is_header_value(std::string_view s) noexcept { return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

bool same_name(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);  // header names are ASCII tokens
         });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

Error invalid(std::string detail) { return Error(HttpClientError::invalid_request, std::move(detail)); }

}  // namespace

Transfer::~Transfer() {
  if (easy_) curl_easy_cleanup(easy_);  // first: it points at the list and the URL
  curl_slist_free_all(headers_);
  curl_url_cleanup(url_);
}

CURL* Transfer::take_easy() noexcept { return std::exchange(easy_, nullptr); }

Status Transfer::start(CURL* easy, HttpClientRequest request, const HttpClientOptions& options) {
  easy_ = easy;
  started_ = std::chrono::steady_clock::now();

  // The URL is parsed here, so a bad one is refused before anything is sent, and curl is
  // handed the parsed form.
  url_ = curl_url();
  if (!url_) return Error(HttpClientError::transfer_failed, "out of memory");
  if (request.url.find('\0') != std::string::npos) return Error(HttpClientError::bad_url, "a NUL in the URL");
  if (const CURLUcode uc = curl_url_set(url_, CURLUPART_URL, request.url.c_str(), 0); uc != CURLUE_OK)
    return Error(HttpClientError::bad_url, "\"" + request.url + "\": " + curl_url_strerror(uc));
  char* scheme = nullptr;
  curl_url_get(url_, CURLUPART_SCHEME, &scheme, 0);
  const bool http = scheme && (same_name(scheme, "http") || same_name(scheme, "https"));
  curl_free(scheme);
  if (!http) return Error(HttpClientError::bad_url, "\"" + request.url + "\": not an http:// or https:// URL");
  if (!is_token(request.method)) return invalid("method \"" + request.method + "\" is not a token");
  if (request.method == "HEAD" && !request.body.empty()) return invalid("a HEAD request with a body");
  if (Status headers = set_headers(request); !headers) return headers;

  const Duration total = request.timeout.count() > 0 ? request.timeout : options.timeout;
  max_body_ = request.max_response_size ? request.max_response_size : options.max_response_size;

  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy_, CURLOPT_CURLU, url_);
  // Defence in depth: the scheme is checked above, and no redirect is followed anyway.
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);  // threads of ours must not get SIGALRM/SIGPIPE
  curl_easy_setopt(easy_, CURLOPT_PROXY, "");      // "": no proxy, whatever http_proxy says
  curl_easy_setopt(easy_, CURLOPT_TCP_KEEPALIVE, 1L);
  // A transfer that ends (timeout, cancel) while its name is still being resolved would make
  // curl join the resolver thread, blocking the loop for as long as getaddrinfo takes (curl
  // issues 4852, 8515): with this, the thread is left to finish and free itself.
  curl_easy_setopt(easy_, CURLOPT_QUICK_EXIT, 1L);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
  curl_easy_setopt(easy_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(total, options.connect_timeout).count()));
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "capstan/" CAPSTAN_VERSION);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_text_);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  // Refuses an announced Content-Length over the limit before the body comes; on_body
  // enforces it on what actually comes.
  curl_easy_setopt(easy_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body_));
  body_ = std::move(request.body);
  set_method(request);
  return {};
}

Status Transfer::set_headers(const HttpClientRequest& request) {
  bool content_type = false;
  bool expect = false;
  auto append = [this](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers_, line.c_str());
    if (grown) headers_ = grown;
    return grown != nullptr;
  };
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name)) return invalid("header name \"" + name + "\" is not a token");
    if (!is_header_value(value)) return invalid("header " + name + ": a CR, LF or NUL in its value");
    // The body's framing is curl's to write, from the body itself.
    if (same_name(name, "Content-Length") || same_name(name, "Transfer-Encoding"))
      return invalid("header " + name + ": set by the client from the body");
    content_type = content_type || same_name(name, "Content-Type");
    expect = expect || same_name(name, "Expect");
    // "Name;" is curl's way to send a header with an empty value ("Name:" would drop it).
    if (!append(value.empty() ? name + ";" : name + ": " + value)) return Error(HttpClientError::transfer_failed, "out of memory");
  }
  // curl would add "Expect: 100-continue" to a large body and wait for an answer a backend may
  // never give, and a form Content-Type the body is not: "Name:" removes what curl adds.
  if (!expect && !append("Expect:")) return Error(HttpClientError::transfer_failed, "out of memory");
  if (!content_type && !append("Content-Type:")) return Error(HttpClientError::transfer_failed, "out of memory");
  return {};
}

void Transfer::set_method(const HttpClientRequest& request) {
  const std::string& m = request.method;
  if (m == "HEAD") {
    curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
    return;
  }
  if (m == "GET" && body_.empty()) {
    curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (m != "POST") curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, m.c_str());  // curl copies it
  if (m == "POST" || !body_.empty()) {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, body_.data());
  }
}

size_t Transfer::on_header(char* data, size_t, size_t n, void* p) {
  auto* self = static_cast<Transfer*>(p);
  self->header_bytes_ += n;
  if (self->header_bytes_ > kMaxHeaderBytes) {
    self->too_large_ = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  const std::string_view line(data, n);
  // A status line starts a response: what an interim 1xx said before it does not count.
  if (line.starts_with("HTTP/")) {
    self->response_.headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line after the head
  std::string name(trim(line.substr(0, colon)));
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  self->response_.headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
  return n;
}

size_t Transfer::on_body(char* data, size_t, size_t n, void* p) {
  auto* self = static_cast<Transfer*>(p);
  std::string& body = self->response_.body;
  if (n > self->max_body_ - body.size()) {
    self->too_large_ = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  if (body.empty()) {
    // One allocation when the answer says how long it is (and that fits the limit).
    curl_off_t length = -1;
    curl_easy_getinfo(self->easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (length > 0 && static_cast<uint64_t>(length) <= self->max_body_) body.reserve(static_cast<size_t>(length));
  }
  body.append(data, n);
  return n;
}

Expected<HttpClientResponse> Transfer::finish(CURLcode result) {
  response_.elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started_);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    response_.status = static_cast<int>(status);
    return std::move(response_);
  }
  HttpClientError code = HttpClientError::transfer_failed;
  switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
      code = HttpClientError::timeout;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      code = HttpClientError::unreachable;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      code = HttpClientError::bad_url;
      break;
    case CURLE_FILESIZE_EXCEEDED:
      code = HttpClientError::response_too_large;
      break;
    case CURLE_WRITE_ERROR:
      if (too_large_) code = HttpClientError::response_too_large;
      break;
    default:
      break;
  }
  if (code == HttpClientError::response_too_large) {
    return Error(code, header_bytes_ > kMaxHeaderBytes ? "response head over " + std::to_string(kMaxHeaderBytes) + " bytes"
                                                       : "response body over " + std::to_string(max_body_) + " bytes");
  }
  return Error(code, error_text_[0] ? std::string(error_text_) : std::string(curl_easy_strerror(result)));
}

}  // namespace capstan::net
