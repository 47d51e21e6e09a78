#include "app/http_endpoints.hpp"
#include "app/loop_context.hpp"

namespace capstan::app {

// Being written (issue 5): the Prometheus exposition of every counter.
void append_metrics_text(LoopContext&, std::string& body) { body.clear(); }

}  // namespace capstan::app
