// The public Component members the library implements: the default refusal, and what reaches
// the server's services (the user provider, the worker pool, the topics) through the loop
// context.
#include "app/component_attach.hpp"
#include "app/loop_context.hpp"

namespace capstan {

const Users* Component::users() const noexcept {
  return services_ ? services_->users : nullptr;
}

Topics& Component::topics() const noexcept { return *services_->topics; }

bool Component::offload(BlockingJob job) { return services_ && services_->context->jobs().offload(std::move(job)); }

void Component::on_refused(Connection& connection, uint16_t code, std::string_view) {
  connection.close(code, code == close_code::policy_violation ? "Invalid request" : "Internal error");
}

}  // namespace capstan
