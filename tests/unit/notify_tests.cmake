target_sources(capstan_unit_tests PRIVATE
  action_json_test.cpp
  static_files_test.cpp
  notify_api_test.cpp
  component_keys_test.cpp
)
