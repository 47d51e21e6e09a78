// Invariants: checked in debug and sanitizer builds (CAPSTAN_CHECKS), compiled out of release
// builds. A broken invariant is a bug of ours, not bad input: it aborts with where and what.
#pragma once

namespace capstan::util {
[[noreturn]] void check_failed(const char* condition, const char* file, int line) noexcept;
}  // namespace capstan::util

#if !defined(NDEBUG) || defined(CAPSTAN_CHECKS)
#define CAPSTAN_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::capstan::util::check_failed(#condition, __FILE__, __LINE__))
#else
#define CAPSTAN_CHECK(condition) static_cast<void>(0)
#endif
