// Watching a descriptor the component owns on the component's loop: the socket of an async
// client library (hiredis' adapter, libcurl's multi socket API) whose readiness the library
// wants to hear about, without a thread of its own or a second poller.
//
// The Watch calls `on_readable` when the descriptor can be read and `on_writable` when it can
// be written, on the loop's thread, for as long as that side is wanted (want_read,
// want_write). Readiness is level-triggered, as poll(2) says it: a readable callback that does
// not read is called again next turn. Neither side is wanted at first; the descriptor is with
// the loop only while one is, so an idle Watch costs no wakeups.
//
// A hang-up or an error on the descriptor (EPOLLHUP, EPOLLERR) is reported as readiness of
// whichever sides are wanted: the read then sees end of file or the error (recv returns 0 or
// -1 with errno), the write fails with it, exactly as the library expects to find out.
//
// An exception from a callback is logged and dropped, as a timer's is; the Watch keeps what it
// wants. A callback may destroy or close its own Watch, or turn either side off: nothing more
// is called for it, even for an event the same turn had already fetched. The callbacks
// themselves (and what they captured) are freed at the end of that turn.
//
// Use it on its loop's thread only (from Component::on_start on), and destroy or close() it
// before closing the descriptor (hiredis' cleanup hook and curl's CURL_POLL_REMOVE come
// before the close) and before the loop ends (a component's members do). The Watch never
// closes the descriptor: it is the library's.
#pragma once

#include <functional>

#include "capstan/loop.hpp"

namespace capstan {

class Watch {
 public:
  using Callback = std::function<void()>;

  // Watches nothing; a Watch to move one into.
  Watch() noexcept = default;
  // A callback may be empty when its side is never wanted.
  Watch(Loop& loop, int fd, Callback on_readable, Callback on_writable = {});
  Watch(Watch&& other) noexcept;
  Watch& operator=(Watch&& other) noexcept;
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  ~Watch();

  // Turns a side on or off; the loop is told only when the wish changes. False, with the
  // wish unchanged and errno set, when the kernel refused the descriptor (EBADF, EPERM for a
  // regular file), for an empty Watch, or (EINVAL) when that side has no callback.
  bool want_read(bool on);
  bool want_write(bool on);
  bool wants_read() const noexcept;
  bool wants_write() const noexcept;

  // Stops watching for good; the Watch becomes empty. What the destructor does.
  void close() noexcept;
  explicit operator bool() const noexcept { return state_ != nullptr; }
  int fd() const noexcept;  // -1 when empty

 private:
  class State;
  State* state_ = nullptr;  // owned; handed to the loop to free at the end of the turn
};

}  // namespace capstan
