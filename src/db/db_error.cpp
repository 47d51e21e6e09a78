// The db category: why the user database did not answer.
#include "capstan/error.hpp"

namespace capstan {

namespace {

// Indexed by DbError.
constexpr const char* kTexts[] = {
    "unknown database error",
    "cannot open the database",
    "query failed",
    "missing query parameter",
    "user database unavailable",
};
constexpr int kCount = static_cast<int>(sizeof kTexts / sizeof kTexts[0]);
static_assert(kCount == static_cast<int>(DbError::unavailable) + 1, "one text per DbError");

class DbCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "capstan.db"; }
  std::string message(int value) const override { return kTexts[value > 0 && value < kCount ? value : 0]; }
};

}  // namespace

const std::error_category& db_category() noexcept {
  static const DbCategory category;
  return category;
}

}  // namespace capstan
