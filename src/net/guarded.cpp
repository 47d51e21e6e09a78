#include "net/guarded.hpp"

#include <exception>

#include "util/log.hpp"

namespace capstan::net {

void run_guarded(const std::function<void()>& fn, std::string_view what) noexcept {
  try {
    fn();
  } catch (const std::exception& e) {
    log::error("callback threw", {{"in", what}, {"what", e.what()}});
  } catch (...) {
    log::error("callback threw", {{"in", what}, {"what", "an exception not derived from std::exception"}});
  }
}

}  // namespace capstan::net
