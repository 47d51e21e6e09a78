// The config category: why a configuration cannot be run with.
#include "capstan/error.hpp"

#include "util/error_category.hpp"

namespace capstan {

namespace {

// Indexed by ConfigError.
constexpr const char* kTexts[] = {
    "unknown configuration error",
    "cannot read the configuration",
    "not TOML",
    "unknown key",
    "wrong type",
    "out of range",
    "not one of the allowed values",
    "missing",
    "invalid value",
};
constexpr int kCount = static_cast<int>(sizeof kTexts / sizeof kTexts[0]);
static_assert(kCount == static_cast<int>(ConfigError::invalid) + 1, "one text per ConfigError");

const char* text_of(int value) noexcept { return kTexts[value > 0 && value < kCount ? value : 0]; }

}  // namespace

const std::error_category& config_category() noexcept {
  static const util::TableCategory category("capstan.config", text_of);
  return category;
}

}  // namespace capstan
