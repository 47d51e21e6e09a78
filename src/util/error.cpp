// Error's one out-of-line helper; the categories live with their layers (http/http_error.cpp,
// ws/ws_error.cpp, config/config_error.cpp, auth/auth_error.cpp, db/db_error.cpp).
#include "capstan/error.hpp"

namespace capstan {

Error Error::from_errno(int err, const std::string& what) {
  std::error_code code(err, std::generic_category());
  return {code, what + ": " + code.message()};
}

}  // namespace capstan
