// load_config_string on arbitrary text must not crash, throw or hang; a file it accepts must
// hold values within the option table's bounds. parse_duration / parse_size get the same text.
#include <string>
#include <string_view>

#include "capstan/config.hpp"
#include "fuzz_common.hpp"
#include "net/socket_address.hpp"
#include "ws/frame_encoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  capstan::Duration d{};
  uint64_t n = 0;
  (void)capstan::parse_duration(text, d);
  (void)capstan::parse_size(text, n);

  const capstan::LoadedConfig loaded = capstan::load_config_string(text, "fuzz");
  for (const capstan::ConfigFault& e : loaded.errors) FUZZ_CHECK(!e.message.empty() && e.line >= 0);
  if (!loaded.ok()) return 0;

  const capstan::Config& c = loaded.config;
  FUZZ_CHECK(!c.server.listen.empty());
  for (const std::string& address : c.server.listen) FUZZ_CHECK(capstan::net::parse_listen_address(address).has_value());
  FUZZ_CHECK(c.server.log_format == capstan::LogFormat::text || c.server.log_format == capstan::LogFormat::json);
  FUZZ_CHECK(c.users.recheck != capstan::Recheck::periodic || c.users.recheck_interval.count() >= 1000);
  FUZZ_CHECK(c.server.prefix.empty() || (c.server.prefix.front() == '/' && c.server.prefix.back() != '/'));
  FUZZ_CHECK(c.server.threads <= 1024);
  FUZZ_CHECK(c.limits.max_message_size >= 1 && c.limits.max_message_size <= (uint64_t{4} << 30));
  FUZZ_CHECK(c.limits.max_header_size >= 256 && c.limits.max_header_size <= (1u << 20));
  FUZZ_CHECK(c.limits.idle_timeout.count() >= 1 && c.limits.handshake_timeout.count() >= 1);
  FUZZ_CHECK(c.limits.max_connections >= 1);
  for (const capstan::RouteConfig& r : c.routes) {
    FUZZ_CHECK(!r.component.empty());
    FUZZ_CHECK(r.path.empty() || r.path.front() == '/');
    // notify's own rule, applied through its check_keys when the file names the key.
    if (const capstan::KeyValue* code = r.keys.find("fatal_close_code"))
      FUZZ_CHECK(code->integer <= 0xFFFF && capstan::ws::is_valid_close_code(static_cast<uint16_t>(code->integer)));
  }
  return 0;
}
