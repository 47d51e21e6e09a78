// Gives a component instance its loop; the only code allowed to set Component's private loop.
#pragma once

#include "capstan/component.hpp"

namespace capstan {

class ComponentAttach {
 public:
  static void attach(Component& c, Loop& loop) noexcept { c.loop_ = &loop; }
};

}  // namespace capstan
