// One request's exchange in libcurl terms: the checks that refuse a request curl must not
// send (a URL that is not http(s), a CR or LF in a header), the easy handle's options for it,
// the response as it arrives (headers lower-cased, the body under its limit), and what the
// result means once curl is done (the answer, or an HttpClientError).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>

#include "capstan/error.hpp"
#include "capstan/http_client.hpp"

namespace capstan::net {

class Transfer {
 public:
  explicit Transfer(RequestId id) noexcept : id_(id) {}
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  RequestId id() const noexcept { return id_; }
  // Checks `request` and sets `easy` up for it; the Transfer owns `easy` from here on, also
  // when the request is refused (bad_url, invalid_request).
  Status start(CURL* easy, HttpClientRequest request, const HttpClientOptions& options);
  CURL* easy() const noexcept { return easy_; }
  // Gives the handle back (reset by its next user) once it is out of the multi.
  CURL* take_easy() noexcept;
  // What the exchange came to, once curl finished it with `result`.
  Expected<HttpClientResponse> finish(CURLcode result);

 private:
  static size_t on_header(char* data, size_t size, size_t n, void* self);
  static size_t on_body(char* data, size_t size, size_t n, void* self);
  Status set_headers(const HttpClientRequest& request);
  void set_method(const HttpClientRequest& request);

  const RequestId id_;
  CURL* easy_ = nullptr;
  CURLU* url_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string body_;  // sent from here: curl does not copy it
  std::chrono::steady_clock::time_point started_;
  size_t max_body_ = 0;
  size_t header_bytes_ = 0;
  bool too_large_ = false;
  HttpClientResponse response_;
  char error_text_[CURL_ERROR_SIZE] = {};
};

}  // namespace capstan::net
