// The connections of one loop that something outside them names by id (a ConnectionRef was
// taken): id -> connection, so a late callback finds the connection or learns it is gone.
// Only connections that handed out a reference are listed; an idle connection costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace capstan::app {

class ConnectionImpl;

class ConnectionDirectory {
 public:
  void list(ConnectionImpl& c);
  // The connection while it exists (it may be closing or closed), else nullptr.
  ConnectionImpl* find(uint64_t id) const noexcept;
  void forget(const ConnectionImpl& c) noexcept;
  size_t size() const noexcept { return by_id_.size(); }

 private:
  std::unordered_map<uint64_t, ConnectionImpl*> by_id_;
};

}  // namespace capstan::app
