// The one rule for relative paths in a configuration file (keys, databases, static files,
// the runtime directory): they are relative to the file's folder, not to the process's.
#pragma once

#include <string>

namespace capstan::util {

// `path` resolved against `base_dir` (the config file's folder): unchanged when it is empty
// or absolute, or when there is no base (a configuration built in code).
inline std::string resolve_path(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir.back() == '/' ? base_dir + path : base_dir + "/" + path;
}

}  // namespace capstan::util
