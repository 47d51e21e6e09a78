// The component types every Server knows from the start (echo, notify). Declared here for the
// server; defined with the components (src/components/builtin_types.cpp), so the core
// includes none of them: they are built on the public API like any user's component.
#pragma once

namespace capstan {
class Server;
}

namespace capstan::app {

void register_builtin_types(Server& server);

}  // namespace capstan::app
