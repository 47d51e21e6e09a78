// The loop's exception boundary for work it runs on behalf of the layers above (timers,
// posted work): an exception is logged and dropped, so it never ends a loop thread. Work tied
// to a connection is guarded closer to it (ConnectionImpl::run_guarded), where the connection
// can be closed with 1011.
#pragma once

#include <functional>
#include <string_view>

namespace capstan::net {

void run_guarded(const std::function<void()>& fn, std::string_view what) noexcept;

}  // namespace capstan::net
