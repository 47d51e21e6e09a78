// `capstan keys generate` and `capstan token`: the key pair and the tokens a deployment
// needs, as `lexik:jwt:generate-keypair` and Lexik's token manager make them.
#pragma once

#include <CLI/CLI.hpp>

namespace capstan::cli {

// Adds the two subcommands to `app`; the returned function runs whichever was chosen and
// gives the exit status, or -1 when neither was.
std::function<int()> add_auth_commands(CLI::App& app);

}  // namespace capstan::cli
