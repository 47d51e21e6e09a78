// The public Component members that reach the server's services: the user provider and the
// worker pool, through the instance's loop context.
#include "app/component_attach.hpp"
#include "app/loop_context.hpp"

namespace capstan {

const Users* Component::users() const noexcept {
  return services_ ? services_->context->shared().users : nullptr;
}

bool Component::offload(BlockingJob job) { return services_ && services_->context->offload(std::move(job)); }

}  // namespace capstan
