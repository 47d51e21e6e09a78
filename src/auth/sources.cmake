target_sources(capstan PRIVATE
  auth/auth_error.cpp
  auth/base64url.cpp
  auth/jwt_algorithms.cpp
  auth/jws_signature.cpp
  auth/jwt_keys.cpp
  auth/jwks.cpp
  auth/jwt_verifier_setup.cpp
  auth/jwt_verify.cpp
  auth/jwt_claims.cpp
  auth/jwt_sign.cpp
  auth/key_generate.cpp
  auth/token_source.cpp
)
