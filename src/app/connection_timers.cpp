// What a connection hands out that may outlive a callback: its timers (Connection::after,
// every), which end with it, and ConnectionRef, the weak handle a late answer resolves through
// the loop's ConnectionDirectory. Both cost a connection nothing until it uses them.
#include <algorithm>

#include "app/connection_directory.hpp"
#include "app/connection_impl.hpp"
#include "app/loop_context.hpp"

namespace capstan {

using app::ConnectionImpl;

TimerId Connection::after(Duration delay, std::function<void(Connection&)> fn) {
  return static_cast<ConnectionImpl*>(this)->add_timer(delay, Duration::zero(), std::move(fn));
}

TimerId Connection::every(Duration interval, std::function<void(Connection&)> fn) {
  if (interval <= Duration::zero()) interval = Duration(1);  // as Loop::every: never a busy loop
  return static_cast<ConnectionImpl*>(this)->add_timer(interval, interval, std::move(fn));
}

void Connection::cancel_timer(TimerId id) { static_cast<ConnectionImpl*>(this)->cancel_timer(id); }

ConnectionRef Connection::ref() { return static_cast<ConnectionImpl*>(this)->make_ref(); }

Connection* ConnectionRef::get() const noexcept {
  if (!home_) return nullptr;
  ConnectionImpl* c = home_->directory().find(id_);
  return c && c->state() != ConnectionImpl::State::closed ? c : nullptr;
}

void ConnectionRef::post(std::function<void(Connection&)> fn) const {
  if (!home_) return;
  home_->loop().post_task([ref = *this, fn = std::move(fn)] {
    if (Connection* c = ref.get()) static_cast<ConnectionImpl*>(c)->run_guarded("posted", [&] { fn(*c); });
  });
}

}  // namespace capstan

namespace capstan::app {

TimerId ConnectionImpl::add_timer(Duration delay, Duration interval, std::function<void(Connection&)> fn) {
  if (state_ == State::closed || !fn) return 0;
  const bool once = interval == Duration::zero();
  const TimerId id = ctx_.loop().add_timer(delay, interval, [this, once, fn = std::move(fn)] {
    if (once) {
      // Fired: no longer this connection's to cancel.
      std::vector<TimerId>& mine = extras_->timers;
      std::erase(mine, ctx_.loop().running_timer());
    }
    // Closed this turn, before the reap cancels it: a timer never runs after the close.
    if (state_ == State::closed) return;
    run_guarded("timer", [&] { fn(*this); });
  });
  extras().timers.push_back(id);
  return id;
}

void ConnectionImpl::cancel_timer(TimerId id) noexcept {
  if (!extras_ || id == 0) return;
  std::vector<TimerId>& mine = extras_->timers;
  auto it = std::find(mine.begin(), mine.end(), id);
  if (it == mine.end()) return;
  mine.erase(it);
  ctx_.loop().cancel_timer(id);
}

ConnectionRef ConnectionImpl::make_ref() {
  if (!listed_) {
    ctx_.directory().list(*this);
    listed_ = true;
  }
  return ConnectionRef(&ctx_, id_);
}

void ConnectionImpl::release_handles() noexcept {
  if (listed_) ctx_.directory().forget(*this);
  if (extras_)
    for (TimerId id : extras_->timers) ctx_.loop().cancel_timer(id);
}

}  // namespace capstan::app
