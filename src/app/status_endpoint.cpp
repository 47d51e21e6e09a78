#include "app/http_endpoints.hpp"
#include "app/loop_context.hpp"

namespace capstan::app {

// Being written (issue 5): name, pid, uptime, listen, connections per route.
void append_status_json(LoopContext&, std::string& body) { body = "{}\n"; }

}  // namespace capstan::app
