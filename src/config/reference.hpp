// The configuration reference (docs/configuration.md), written from the option table: every
// key with its type, default, allowed values and meaning. `capstan check --reference` prints
// it; a unit test fails when the file in docs/ differs from it.
#pragma once

#include <string>

namespace capstan::config {

std::string reference_markdown();

}  // namespace capstan::config
