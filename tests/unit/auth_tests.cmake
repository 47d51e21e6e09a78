# The auth layer: base64url, JWT verification and signing, key files, token sources.
target_sources(capstan_unit_tests PRIVATE
  base64url_test.cpp
  jwt_test.cpp
  jwt_refusal_test.cpp
  jwt_claims_test.cpp
  jwt_keys_test.cpp
  token_source_test.cpp
)
