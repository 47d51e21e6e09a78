target_sources(capstan PRIVATE
  auth/base64url.cpp
  auth/jwt_verify.cpp
  auth/jwt_keys.cpp
  auth/jwt_sign.cpp
  auth/key_generate.cpp
  auth/token_source.cpp
)
