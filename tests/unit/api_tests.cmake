# Unit tests of the public API pieces that components build on beyond Component and
# Connection: watching a descriptor on the loop, the HTTP client, logging, form (query)
# decoding, counters for /metrics; and the pubsub component's own pieces (channel names, its
# registry).
target_sources(capstan_unit_tests PRIVATE
  watch_test.cpp
  http_client_test.cpp
  log_test.cpp
  form_urlencoded_test.cpp
  pubsub_test.cpp
  connection_handles_test.cpp
  backend_test.cpp
)
