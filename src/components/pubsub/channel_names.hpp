// Channel names and the patterns that match them (SPEC section 4): a name is 1–255 bytes of
// printable ASCII without spaces, so Mercure topic URIs fit; a pattern is a name in which `*`
// stands for any run of characters (the empty one too), and `{id}` for the connection's user
// id where a JWT claim lists a user's own channels ("user.{id}").
#pragma once

#include <string>
#include <string_view>

namespace capstan::pubsub {

inline constexpr size_t kMaxChannelName = 255;

// Empty when `name` is a valid channel name, else why not.
std::string_view channel_name_fault(std::string_view name) noexcept;

// `*` matches any run of characters; everything else matches itself.
bool glob_matches(std::string_view pattern, std::string_view name) noexcept;

// A claim's pattern with `{id}` replaced by the user's id.
std::string with_user_id(std::string_view pattern, std::string_view user_id);

}  // namespace capstan::pubsub
