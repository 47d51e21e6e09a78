// What the http layer's http_status_of needs of the http_client category: the status a proxy
// answers with when its backend did not answer.
#pragma once

#include <cstdint>

namespace capstan::net {

// The status of HttpClientError `value`; 502 for a value outside the enum.
uint16_t http_client_status(int value) noexcept;

}  // namespace capstan::net
