// The built-in `echo` component: every message goes back to its sender, text as text,
// binary as binary.
#pragma once

#include "capstan/component.hpp"

namespace capstan::app {

class EchoComponent final : public Component {
 public:
  void on_message(Connection& connection, Message message) override {
    connection.send(message.data, message.binary ? Opcode::binary : Opcode::text);
  }
};

}  // namespace capstan::app
