// The system calls under the event loop, called through one table so that tests can make any
// of them fail on the Nth call (failure injection, as Beast's fail_count and uSockets' epoll
// fuzzer do) and drive the error paths of whole connection lifecycles deterministically.
//
// Production code never changes the table. Each call costs one extra indirect jump, nothing
// next to the system call itself (callgrind: within the noise of an echo).
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>

namespace capstan::net {

struct SyscallTable {
  int (*accept4)(int fd, sockaddr* addr, socklen_t* len, int flags);
  int (*epoll_ctl)(int epfd, int op, int fd, epoll_event* event);
  int (*epoll_wait)(int epfd, epoll_event* events, int max, int timeout);
  ssize_t (*recv)(int fd, void* buf, size_t len, int flags);
  ssize_t (*send)(int fd, const void* buf, size_t len, int flags);
  ssize_t (*sendmsg)(int fd, const msghdr* msg, int flags);
  ssize_t (*write)(int fd, const void* buf, size_t len);  // eventfd wakeups
  // Asked before the output path allocates (a connection's outbox): true makes that
  // allocation fail as if memory ran out. Null in production.
  bool (*allocation_fails)();
};

// The table in use, and the real calls. Tests swap the table before a server starts and
// restore it after the server stopped; nothing changes it while loops run.
extern SyscallTable syscalls;
extern const SyscallTable kRealSyscalls;

// Throws std::bad_alloc when the table says an output allocation fails.
void check_output_allocation();

}  // namespace capstan::net
