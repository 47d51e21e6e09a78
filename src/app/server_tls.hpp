// [server.tls] as the server uses it: the configured files (relative to the config file),
// the passphrase from the file or CAPSTAN_TLS_PASSPHRASE, loaded into TLS contexts at start
// and again on SIGHUP (a renewed certificate is picked up without a restart).
#pragma once

#include <memory>

#include "capstan/config.hpp"
#include "capstan/error.hpp"
#include "net/tls/tls_context.hpp"

namespace capstan::app {

Expected<std::shared_ptr<const net::tls::TlsContexts>> load_tls(const Config& config);

}  // namespace capstan::app
