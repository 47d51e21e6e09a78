// The one std::error_category class the layers' categories are made of: a name and the text
// of each code, from the layer's own table (http/http_error.cpp, ws/ws_error.cpp, ...).
#pragma once

#include <string>
#include <system_error>

namespace capstan::util {

class TableCategory final : public std::error_category {
 public:
  using TextOf = const char* (*)(int value) noexcept;
  constexpr TableCategory(const char* name, TextOf text_of) noexcept : name_(name), text_of_(text_of) {}
  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override { return text_of_(value); }

 private:
  const char* name_;
  TextOf text_of_;
};

}  // namespace capstan::util
