#include "cli/auth_commands.hpp"

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "app/notify/action_json.hpp"
#include "auth/jwt.hpp"
#include "auth/jwt_algorithms.hpp"
#include "cli/config_file.hpp"
#include "capstan/config.hpp"

namespace capstan::cli {

namespace {

struct KeysOptions {
  std::string algorithm = "RS256";
  std::string dir = "config/jwt";
  std::string passphrase;
  bool overwrite = false;
};

struct TokenOptions {
  std::string config_path;
  std::vector<std::string> claims;
  int64_t ttl = 3600;
};

int generate_keys(const KeysOptions& o) {
  std::string passphrase = o.passphrase;
  if (passphrase.empty())
    if (const char* env = std::getenv("CAPSTAN_JWT_PASSPHRASE")) passphrase = env;
  if (Status generated = auth::generate_key_pair(o.algorithm, o.dir, passphrase, o.overwrite); !generated) {
    std::fprintf(stderr, "capstan keys generate: %s\n", generated.error().message().c_str());
    return 1;
  }
  std::printf("%s key pair written to %s/private.pem and %s/public.pem%s\n", o.algorithm.c_str(), o.dir.c_str(),
              o.dir.c_str(), passphrase.empty() ? "" : " (private key encrypted with the passphrase)");
  return 0;
}

// A claim value is JSON when it parses as JSON (42, true, ["ROLE_USER"], "\"42\""), else a string.
void append_claim_value(std::string& out, const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(text).get(e) == simdjson::SUCCESS) app::append_json(out, e);
  else app::append_quoted(out, text);
}

int make_token(const TokenOptions& o) {
  Config config;
  if (!load_config_or_report(o.config_path, config)) return 2;
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  std::string claims = "{\"iat\":" + std::to_string(now);
  if (o.ttl > 0) claims += ",\"exp\":" + std::to_string(now + o.ttl);
  for (const std::string& claim : o.claims) {
    const size_t eq = claim.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "capstan token: --claim %s: expected NAME=VALUE\n", claim.c_str());
      return 2;
    }
    claims += ',';
    app::append_quoted(claims, std::string_view(claim).substr(0, eq));
    claims += ':';
    append_claim_value(claims, claim.substr(eq + 1));
  }
  claims += '}';
  const Expected<std::string> token = auth::sign_token(config.auth, config.base_dir, claims);
  if (!token) {
    std::fprintf(stderr, "capstan token: %s\n", token.error().message().c_str());
    return 1;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace

std::function<int()> add_auth_commands(CLI::App& app) {
  auto keys = std::make_shared<KeysOptions>();
  auto token = std::make_shared<TokenOptions>();

  CLI::App* keys_cmd = app.add_subcommand("keys", "manage JWT key pairs");
  keys_cmd->require_subcommand(1);
  CLI::App* generate = keys_cmd->add_subcommand("generate", "write a key pair (private.pem, public.pem)");
  generate->add_option("--alg", keys->algorithm, "RS256 (RSA 2048, the default), RS384/512, PS256/384/512, ES256/384/512 or EdDSA")
      ->check(CLI::IsMember(auth::algorithm_names(true)));
  generate->add_option("--dir", keys->dir, "folder for the two files (default config/jwt)");
  generate->add_option("--passphrase", keys->passphrase, "encrypt the private key (or CAPSTAN_JWT_PASSPHRASE)");
  generate->add_flag("--overwrite", keys->overwrite, "replace existing files");

  CLI::App* token_cmd = app.add_subcommand("token", "mint a token with the configured key or secret");
  token_cmd->add_option("-c,--config", token->config_path, "configuration file (TOML)")->check(CLI::ExistingFile);
  token_cmd->add_option("--claim", token->claims, "NAME=VALUE, repeatable; VALUE is JSON when it parses as JSON");
  token_cmd->add_option("--ttl", token->ttl, "seconds until exp (default 3600; 0: no exp)");

  return [=]() -> int {
    if (*generate) return generate_keys(*keys);
    if (*token_cmd) return make_token(*token);
    return -1;
  };
}

}  // namespace capstan::cli
