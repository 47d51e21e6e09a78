// The db category: why the user database did not answer.
#include "capstan/error.hpp"

#include "util/error_category.hpp"

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

const char* text_of(int value) noexcept { return kTexts[value > 0 && value < kCount ? value : 0]; }

}  // namespace

const std::error_category& db_category() noexcept {
  static const util::TableCategory category("capstan.db", text_of);
  return category;
}

}  // namespace capstan
