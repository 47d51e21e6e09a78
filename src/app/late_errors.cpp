#include "app/late_errors.hpp"

#include "app/ws_session.hpp"

namespace capstan::app {

void LateErrors::deliver() {
  while (!pending_.empty()) {
    delivering_.swap(pending_);
    for (auto [c, error] : delivering_) WsSession::tell_component(*c, error);
    delivering_.clear();
  }
}

}  // namespace capstan::app
