#include "app/endpoint_table.hpp"

#include "app/component_attach.hpp"

namespace capstan::app {

void EndpointTable::add(const Endpoint& endpoint, Loop& loop, ComponentServices& services) {
  Entry entry{endpoint.path, endpoint.options, endpoint.factory()};
  HandlerAttach::attach(*entry.handler, loop, services);
  entries_.push_back(std::move(entry));
}

void EndpointTable::start() {
  for (Entry& e : entries_) e.handler->on_start();
}

const EndpointTable::Entry* EndpointTable::find(std::string_view path) const noexcept {
  const Entry* best = nullptr;
  for (const Entry& e : entries_) {
    if (path == e.path) return &e;
    if (!e.options.prefix || path.size() <= e.path.size() || !path.starts_with(e.path)) continue;
    // "/apps" serves "/apps/1", not "/appsx".
    if (e.path.back() != '/' && path[e.path.size()] != '/') continue;
    if (!best || e.path.size() > best->path.size()) best = &e;
  }
  return best;
}

}  // namespace capstan::app
