// The configuration reference (docs/configuration.md), written from the option table and the
// component types' key declarations: every key with its type, default, allowed values and
// meaning. `capstan check --reference` prints it; a unit test fails when the file in docs/
// differs from it.
#pragma once

#include <string>

#include "capstan/config.hpp"

namespace capstan::config {

// The built-in component types'.
std::string reference_markdown();
std::string reference_markdown(const ComponentTypes& types);

}  // namespace capstan::config
