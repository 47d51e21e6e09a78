#include "cli/config_file.hpp"

#include <cstdio>

namespace capstan::cli {

bool load_config_or_report(const std::string& path, Config& config) {
  if (path.empty()) return true;
  LoadedConfig loaded = load_config_file(path);
  for (const auto& e : loaded.errors) {
    std::fprintf(stderr, "%s:%d: %s%s%s\n", path.c_str(), e.line, e.key.c_str(), e.key.empty() ? "" : ": ",
                 e.message.c_str());
  }
  if (!loaded.ok()) return false;
  config = std::move(loaded.config);
  return true;
}

}  // namespace capstan::cli
