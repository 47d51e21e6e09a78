# Unit tests of core pieces the Python integration suite reached alone before: the event loop,
# a connection's lifecycle, its output path and plain HTTP endpoints over an in-memory transport, the per-address
# connection limiter and the reload plan; and the loop's own HTTP client in its shutdown.
target_sources(capstan_unit_tests PRIVATE
  event_loop_test.cpp
  connection_lifecycle_test.cpp
  output_path_test.cpp
  http_endpoints_test.cpp
  topics_test.cpp
  topic_families_test.cpp
  ip_limiter_test.cpp
  client_address_test.cpp
  proxy_header_test.cpp
  address_set_test.cpp
  forwarded_for_test.cpp
  config_reload_test.cpp
  loop_http_client_test.cpp
)
