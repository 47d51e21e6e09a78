#include "util/check.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace capstan::util {

void check_failed(const char* condition, const char* file, int line) noexcept {
  char text[512];
  const int n = std::snprintf(text, sizeof text, "capstan: invariant broken: %s (%s:%d)\n", condition, file, line);
  if (n > 0) [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, text, static_cast<size_t>(n) < sizeof text ? static_cast<size_t>(n) : sizeof text - 1);
  std::abort();
}

}  // namespace capstan::util
