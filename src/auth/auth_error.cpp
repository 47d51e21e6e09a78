// The auth category: why a token, key or user does not authenticate.
#include "capstan/error.hpp"

#include "util/error_category.hpp"

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

const char* text_of(int value) noexcept { return kTexts[value > 0 && value < kCount ? value : 0]; }

}  // namespace

const std::error_category& auth_category() noexcept {
  static const util::TableCategory category("capstan.auth", text_of);
  return category;
}

}  // namespace capstan
