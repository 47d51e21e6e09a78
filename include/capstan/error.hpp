// The one error model of the library: every layer reports a failure as a std::error_code of
// its own category (http, ws, config, auth, db, http_client; the system's errno codes for files and
// sockets), and a call that can fail returns Expected<T>: the value, or an Error that holds
// that code and the detail a person needs (the path, the claim, the driver's text).
//
// The code says what kind of failure it was and is what programs compare
// (`e.code() == capstan::AuthError::expired`); each category also knows what the failure
// means on the wire (http_status_of, close_code_of). The detail is for logs and replies.
// The parsers on the hot path (HTTP head, WebSocket frames) return the bare enum: an int, no
// allocation, and a std::error_code wherever one is wanted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace capstan {

// An HTTP request the server refuses before it becomes a WebSocket.
enum class HttpError {
  control_character = 1,   // 400
  malformed_request_line,  // 400
  malformed_version,       // 400
  version_not_supported,   // 505
  target_not_a_path,       // 400
  malformed_target,        // 400
  malformed_header,        // 400
  obsolete_line_folding,   // 400
  malformed_header_name,   // 400
  bare_cr_or_lf,           // 400
  head_too_large,          // 431
  too_many_headers,        // 431
  upgrade_not_get,         // 405
  upgrade_not_http11,      // 400
  missing_host,            // 400
  connection_not_upgrade,  // 400
  unsupported_ws_version,  // 426
  invalid_ws_key,          // 400
  no_route,                // 404: no route serves the path
  origin_not_allowed,      // 403: server.allowed_origins
  websocket_only,          // 426: plain HTTP to a WebSocket route's path
  method_not_allowed,      // 405: an endpoint that does not serve the method
  length_required,         // 411: a body without Content-Length (chunked request bodies)
  malformed_content_length,  // 400
  body_too_large,          // 413: over the endpoint's max_body
};

// A WebSocket session that ends because of what the peer sent or did.
enum class WsError {
  reserved_bits = 1,          // 1002
  rsv1_not_allowed,           // 1002: RSV1 on a control or continuation frame
  reserved_opcode,            // 1002
  fragmented_control,         // 1002
  control_too_long,           // 1002
  orphan_continuation,        // 1002
  data_inside_fragmented,     // 1002
  unmasked_frame,             // 1002
  length_not_minimal,         // 1002
  length_msb_set,             // 1002
  one_byte_close,             // 1002
  invalid_close_code,         // 1002
  decoder_failed,             // 1002: fed again after a fault
  invalid_utf8,               // 1007
  invalid_utf8_close_reason,  // 1007
  truncated_utf8,             // 1007
  invalid_compressed_data,    // 1007
  message_too_big,            // 1009
  rate_limited,               // 1008
  send_buffer_full,           // 1008
  idle_timeout,               // 1001
  component_failed,           // 1011: the component's callback threw
};

// A configuration the server cannot run with.
enum class ConfigError {
  unreadable = 1,  // the file could not be read
  syntax,          // not TOML
  unknown_key,
  wrong_type,
  out_of_range,
  not_a_choice,    // a value outside the option's listed choices
  missing,         // a required key is absent
  invalid,         // a value that breaks a rule of its own (a path, an address, a pairing)
};

// A token, key or user that does not authenticate.
enum class AuthError {
  no_token = 1,
  malformed_token,
  algorithm_refused,    // none, or an algorithm not configured
  bad_header,           // typ, crit, kid
  bad_signature,
  expired,
  not_yet_valid,
  bad_claim,            // a claim of the wrong type, duplicated, or missing
  wrong_issuer,
  wrong_audience,
  no_key,               // no key can check this token, or the configuration lacks one
  bad_key,              // a key file or JWKS that is unreadable, malformed, or of the wrong type
  signing_failed,
  unknown_user,
};

// The user database.
enum class DbError {
  open_failed = 1,
  query_failed,
  missing_parameter,
  unavailable,  // no connection could be opened for the job
};

// A request of the HTTP client (capstan/http_client.hpp) that got no answer; an answer of
// any status is not an error. The status is what a proxy answers its own client
// (http_status_of).
enum class HttpClientError {
  timeout = 1,         // 504: no complete answer within the request's timeout
  unreachable,         // 502: the host's name did not resolve, or the connection was refused
  too_many_in_flight,  // 503: the request's InFlightLimit was full
  bad_url,             // 500: not an http:// or https:// URL
  invalid_request,     // 500: a method or header that cannot be sent (a CR or LF in it...)
  transfer_failed,     // 502: anything else (TLS, a malformed answer); the detail is curl's text
  response_too_large,  // 502: the answer's body was over its limit
  shutting_down,       // 503: the loop is ending
};

}  // namespace capstan

template <> struct std::is_error_code_enum<capstan::HttpError> : std::true_type {};
template <> struct std::is_error_code_enum<capstan::WsError> : std::true_type {};
template <> struct std::is_error_code_enum<capstan::ConfigError> : std::true_type {};
template <> struct std::is_error_code_enum<capstan::AuthError> : std::true_type {};
template <> struct std::is_error_code_enum<capstan::DbError> : std::true_type {};
template <> struct std::is_error_code_enum<capstan::HttpClientError> : std::true_type {};

namespace capstan {

const std::error_category& http_category() noexcept;
const std::error_category& ws_category() noexcept;
const std::error_category& config_category() noexcept;
const std::error_category& auth_category() noexcept;
const std::error_category& db_category() noexcept;
const std::error_category& http_client_category() noexcept;

inline std::error_code make_error_code(HttpError e) noexcept { return {static_cast<int>(e), http_category()}; }
inline std::error_code make_error_code(WsError e) noexcept { return {static_cast<int>(e), ws_category()}; }
inline std::error_code make_error_code(ConfigError e) noexcept { return {static_cast<int>(e), config_category()}; }
inline std::error_code make_error_code(AuthError e) noexcept { return {static_cast<int>(e), auth_category()}; }
inline std::error_code make_error_code(DbError e) noexcept { return {static_cast<int>(e), db_category()}; }
inline std::error_code make_error_code(HttpClientError e) noexcept { return {static_cast<int>(e), http_client_category()}; }

// The status an HTTP refusal is answered with, or a proxy's answer when its backend did not
// answer (HttpClientError: 502, 503, 504); 500 for a code of another category, 0 for no error.
uint16_t http_status_of(std::error_code code) noexcept;
// The RFC 6455 close code a session failure is closed with (1011 for another category, 0
// for no error).
uint16_t close_code_of(std::error_code code) noexcept;
// The category's fixed text for a code, without allocating (the close reason on the wire).
const char* describe(HttpError e) noexcept;
const char* describe(WsError e) noexcept;
const char* describe(HttpClientError e) noexcept;

// A failure: its code and, when the code alone does not say it, the detail.
class Error {
 public:
  Error() = default;
  Error(std::error_code code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  Error(E e, std::string detail = {}) : code_(make_error_code(e)), detail_(std::move(detail)) {}
  // errno of a failed call on `what`: the detail reads "open /etc/capstan.toml: No such file
  // or directory".
  static Error from_errno(int err, const std::string& what);

  const std::error_code& code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }
  // What a log line or a reply says: the detail when there is one, else the code's text.
  std::string message() const { return detail_.empty() ? code_.message() : detail_; }
  // The same failure with what it concerns put before its text ("config/jwt/public.pem: "),
  // for a caller that knows the file, the route or the key the callee did not.
  Error prefixed(std::string_view prefix) const { return {code_, std::string(prefix) + message()}; }

  explicit operator bool() const noexcept { return static_cast<bool>(code_); }
  friend bool operator==(const Error& e, std::error_code c) noexcept { return e.code_ == c; }
  template <class E>
    requires std::is_error_code_enum_v<E>
  friend bool operator==(const Error& e, E c) noexcept { return e.code_ == make_error_code(c); }
  // The portable conditions (std::errc::address_in_use...), as the system's codes match them.
  friend bool operator==(const Error& e, std::errc c) noexcept { return e.code_ == c; }

 private:
  std::error_code code_;
  std::string detail_;
};

// A value or the Error that prevented it. Converts from either, so a function writes
// `return value;` or `return Error{AuthError::expired};`.
template <class T>
class [[nodiscard]] Expected {
 public:
  // From anything that converts to T (a unique_ptr<Derived> for a unique_ptr<Base>).
  template <class U = T>
    requires(std::is_convertible_v<U &&, T> && !std::is_same_v<std::remove_cvref_t<U>, Expected> &&
             !std::is_same_v<std::remove_cvref_t<U>, Error> && !std::is_error_code_enum_v<std::remove_cvref_t<U>>)
  Expected(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  Expected(Error error) : v_(std::in_place_index<1>, std::move(error)) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  Expected(E e) : v_(std::in_place_index<1>, Error(e)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Success, or the Error.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)) {}
  template <class E>
    requires std::is_error_code_enum_v<E>
  Expected(E e) : error_(e) {}

  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
};

using Status = Expected<void>;

}  // namespace capstan
