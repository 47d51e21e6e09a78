// Files from `server.static_dir` for plain GETs (the demo page), read per request so an
// edited page shows at once (a read on the loop thread, from the page cache: fine for a demo
// page and a few assets; big static sites belong behind nginx). Only regular files under the
// folder; no listing, no "..", no hidden files.
#pragma once

#include <string>
#include <string_view>

namespace capstan::http {

// Appends a 200 response with the file for `path` ("/" and "/dir/" mean their index.html);
// false, appending nothing, when there is no such file or the path is not acceptable.
bool append_static_file(std::string& out, const std::string& root, std::string_view path, bool head);

std::string_view content_type_for(std::string_view path) noexcept;

}  // namespace capstan::http
