// The services the configuration turns on that answer plain HTTP: the publish API
// ([publish], POST /publish) and Mercure-compatible publishing ([mercure]). Each is an endpoint
// on the public API (capstan/http.hpp) that hands publications to routes' components
// (Component::on_publish), as a program's own endpoint could.
#pragma once

#include <vector>

#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "capstan/http.hpp"

namespace capstan::services {

// The endpoints `config` asks for, or the Error of a setting that cannot work (a Mercure key
// that does not load).
Expected<std::vector<Endpoint>> endpoints_for(const Config& config);

Endpoint publish_endpoint(const Config& config, std::string api_key);
Expected<Endpoint> mercure_endpoint(const Config& config);

}  // namespace capstan::services
