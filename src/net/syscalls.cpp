#include "net/syscalls.hpp"

#include <unistd.h>

#include <new>

namespace capstan::net {

namespace {
// ::write may be declared with attributes that make its address awkward to take; wrap it.
ssize_t real_write(int fd, const void* buf, size_t len) { return ::write(fd, buf, len); }
}  // namespace

// Constant-initialized: valid before any static constructor runs.
constexpr SyscallTable kRealSyscalls = {::accept4, ::epoll_ctl, ::epoll_wait, ::recv, ::send, ::sendmsg, real_write, nullptr};
constinit SyscallTable syscalls = kRealSyscalls;

void check_output_allocation() {
  if (syscalls.allocation_fails && syscalls.allocation_fails()) throw std::bad_alloc();
}

}  // namespace capstan::net
