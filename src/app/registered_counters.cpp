// The registry behind capstan::counter: counters in a deque (their addresses never move, so
// references stay valid), grouped by name when rendered for /metrics.
#include <deque>
#include <mutex>

#include "capstan/metrics.hpp"

namespace capstan {

namespace {

struct Registered {
  std::string name;
  std::string help;
  MetricLabels labels;
  Counter counter;
};

struct Registry {
  std::mutex mutex;
  std::deque<Registered> counters;
};

Registry& registry() {
  static Registry r;
  return r;
}

void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
}

}  // namespace

Counter& counter(std::string_view name, std::string_view help, MetricLabels labels) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (Registered& c : r.counters)
    if (c.name == name && c.labels == labels) return c.counter;
  Registered& added = r.counters.emplace_back();
  added.name = name;
  added.help = help;
  added.labels = std::move(labels);
  return added.counter;
}

void append_registered_counters(std::string& out) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<const Registered*> done;
  for (const Registered& first : r.counters) {
    bool seen = false;
    for (const Registered* d : done) seen = seen || d->name == first.name;
    if (seen) continue;
    done.push_back(&first);
    out += "# HELP " + first.name + " ";
    append_escaped(out, first.help);
    out += "\n# TYPE " + first.name + " counter\n";
    for (const Registered& c : r.counters) {
      if (c.name != first.name) continue;
      out += c.name;
      if (!c.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < c.labels.size(); ++i) {
          if (i) out += ',';
          out += c.labels[i].first + "=\"";
          append_escaped(out, c.labels[i].second);
          out += '"';
        }
        out += '}';
      }
      out += ' ' + std::to_string(c.counter.value()) + '\n';
    }
  }
}

}  // namespace capstan
