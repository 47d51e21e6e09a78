#include "app/connection_directory.hpp"

#include "app/connection_impl.hpp"

namespace capstan::app {

void ConnectionDirectory::list(ConnectionImpl& c) { by_id_.emplace(c.id(), &c); }

ConnectionImpl* ConnectionDirectory::find(uint64_t id) const noexcept {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

void ConnectionDirectory::forget(const ConnectionImpl& c) noexcept { by_id_.erase(c.id()); }

}  // namespace capstan::app
