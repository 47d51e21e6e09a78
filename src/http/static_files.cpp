#include "http/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/response.hpp"

namespace capstan::http {

namespace {

constexpr off_t kMaxFileSize = 16 << 20;

bool acceptable(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return false;
  // Percent-escapes and backslashes could spell a ".." the check below does not see.
  if (path.find_first_of("%\\") != std::string_view::npos || path.find('\0') != std::string_view::npos) return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == ".." || segment == "." || (!segment.empty() && segment.front() == '.')) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::string_view content_type_for(std::string_view path) noexcept {
  const size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "wasm") return "application/wasm";
  return "application/octet-stream";
}

bool append_static_file(std::string& out, const std::string& root, std::string_view path, bool head) {
  if (root.empty() || !acceptable(path)) return false;
  std::string file = root;
  file.append(path);
  if (file.back() == '/') file += "index.html";
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxFileSize) {
    ::close(fd);
    return false;
  }
  std::string body(static_cast<size_t>(st.st_size), '\0');
  size_t have = 0;
  while (have < body.size()) {
    const ssize_t n = ::read(fd, body.data() + have, body.size() - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  body.resize(have);
  append_response(out, 200, content_type_for(file), body, "Cache-Control: no-cache\r\n");
  if (head) out.resize(out.size() - body.size());
  return true;
}

}  // namespace capstan::http
