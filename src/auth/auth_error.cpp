// The auth category: why a token, key or user does not authenticate.
#include "capstan/error.hpp"

namespace capstan {

namespace {

// Indexed by AuthError.
constexpr const char* kTexts[] = {
    "unknown authentication error",
    "no token",
    "malformed token",
    "algorithm refused",
    "bad token header",
    "bad signature",
    "expired",
    "not yet valid",
    "bad claim",
    "issuer mismatch",
    "audience mismatch",
    "no key",
    "bad key",
    "signing failed",
    "unknown user",
};
constexpr int kCount = static_cast<int>(sizeof kTexts / sizeof kTexts[0]);
static_assert(kCount == static_cast<int>(AuthError::unknown_user) + 1, "one text per AuthError");

class AuthCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "capstan.auth"; }
  std::string message(int value) const override { return kTexts[value > 0 && value < kCount ? value : 0]; }
};

}  // namespace

const std::error_category& auth_category() noexcept {
  static const AuthCategory category;
  return category;
}

}  // namespace capstan
