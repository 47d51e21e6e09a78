#include "app/notify/action_json.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "util/json_string.hpp"

namespace capstan::app {

namespace dom = simdjson::dom;

namespace {

dom::parser& thread_parser() {
  // One parser per thread: its buffers grow to the largest message seen and are reused.
  thread_local dom::parser parser;
  return parser;
}

template <class Out>
void append_number(Out& out, double value) {
  if (value == 0) {  // -0 too: JSON.stringify(-0) is "0", and "-0" would read back as the integer 0
    out.push_back('0');
    return;
  }
  if (!std::isfinite(value)) {  // a database's NaN or infinity: JSON has neither (JSON.stringify: null)
    out.append("null", 4);
    return;
  }
  char buf[32];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, value);  // shortest round trip, as JSON.stringify
  // A huge integral double comes out as digits alone ("333333333333333200000"), which parsers
  // (simdjson included) take for an integer too big for 64 bits: write it with an exponent.
  if (r.ec == std::errc() && std::fabs(value) >= 9.2e18 &&
      std::string_view(buf, static_cast<size_t>(r.ptr - buf)).find_first_of(".e") == std::string_view::npos)
    r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (r.ec == std::errc()) out.append(buf, static_cast<size_t>(r.ptr - buf));
  else out.append("null", 4);
}

template <class Out, class Int>
void append_integer(Out& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace

ActionMessage parse_action_message(std::string_view text) {
  ActionMessage m;
  dom::element root;
  if (thread_parser().parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return m;
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    m.status = ActionMessage::Status::not_object;
    return m;
  }
  // Duplicate keys: the last wins, as json_decode() does.
  bool have_action = false, have_data = false;
  for (dom::key_value_pair field : object) {
    if (field.key == "action") {
      have_action = !field.value.is_null();
      if (field.value.get_string().get(m.action) != simdjson::SUCCESS) m.action = {};
    } else if (field.key == "data") {
      m.data = field.value;
      have_data = !field.value.is_null();
    }
  }
  m.status = !have_action ? ActionMessage::Status::missing_action
             : !have_data ? ActionMessage::Status::missing_data
                          : ActionMessage::Status::ok;
  return m;
}

std::string_view describe(ActionMessage::Status status) noexcept {
  switch (status) {
    case ActionMessage::Status::ok: return "ok";
    case ActionMessage::Status::not_json: return "not JSON";
    case ActionMessage::Status::not_object: return "not a JSON object";
    case ActionMessage::Status::missing_action: return "missing action";
    case ActionMessage::Status::missing_data: return "missing data";
  }
  return "?";
}

template <class Out>
void BasicJsonWriter<Out>::string(std::string_view value) {
  util::append_json_string(out_, value, in_string_);
}

template <class Out>
void BasicJsonWriter<Out>::value(const dom::element& e) {
  switch (e.type()) {
    case dom::element_type::OBJECT: {
      out_.push_back('{');
      bool first = true;
      for (dom::key_value_pair field : dom::object(e)) {
        if (!first) out_.push_back(',');
        first = false;
        string(field.key);
        out_.push_back(':');
        value(field.value);
      }
      out_.push_back('}');
      return;
    }
    case dom::element_type::ARRAY: {
      out_.push_back('[');
      bool first = true;
      for (dom::element item : dom::array(e)) {
        if (!first) out_.push_back(',');
        first = false;
        value(item);
      }
      out_.push_back(']');
      return;
    }
    case dom::element_type::STRING: string(std::string_view(e)); return;
    case dom::element_type::INT64: append_integer(out_, int64_t(e)); return;
    case dom::element_type::UINT64: append_integer(out_, uint64_t(e)); return;
    case dom::element_type::DOUBLE: append_number(out_, double(e)); return;
    case dom::element_type::BOOL: bool(e) ? out_.append("true", 4) : out_.append("false", 5); return;
    case dom::element_type::NULL_VALUE: out_.append("null", 4); return;
  }
}

template <class Out>
void BasicJsonWriter<Out>::number(double value) {
  append_number(out_, value);
}

template <class Out>
void BasicJsonWriter<Out>::integer(int64_t value) {
  append_integer(out_, value);
}

template class BasicJsonWriter<std::string>;
template class BasicJsonWriter<util::ByteBuffer>;

void append_reply(std::string& out, std::string_view action, std::string_view data_json, bool as_string) {
  begin_reply(out, action, false);
  if (as_string) append_quoted(out, data_json);
  else out += data_json;
  out += '}';
}

// ---- the public Json view ----------------------------------------------------------------

static_assert(sizeof(dom::element) <= 16 && std::is_trivially_copyable_v<dom::element>,
              "Json stores a simdjson element in place");

Json JsonAccess::wrap(const dom::element& element) noexcept {
  Json j;
  std::memcpy(j.element_, &element, sizeof element);
  j.present_ = true;
  return j;
}

const dom::element& JsonAccess::element(const Json& json) noexcept {
  return *reinterpret_cast<const dom::element*>(json.element_);
}

}  // namespace capstan::app

namespace capstan {

using app::JsonAccess;
namespace dom = simdjson::dom;

Json::Type Json::type() const noexcept {
  if (!present_) return Type::absent;
  switch (JsonAccess::element(*this).type()) {
    case dom::element_type::OBJECT: return Type::object;
    case dom::element_type::ARRAY: return Type::array;
    case dom::element_type::STRING: return Type::string;
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return Type::number;
    case dom::element_type::BOOL: return Type::boolean;
    case dom::element_type::NULL_VALUE: return Type::null;
  }
  return Type::absent;
}

Json Json::operator[](std::string_view key) const noexcept {
  dom::element child;
  if (type() != Type::object || JsonAccess::element(*this).at_key(key).get(child) != simdjson::SUCCESS) return {};
  return JsonAccess::wrap(child);
}

Json Json::operator[](size_t index) const noexcept {
  dom::element child;
  if (type() != Type::array || JsonAccess::element(*this).at(index).get(child) != simdjson::SUCCESS) return {};
  return JsonAccess::wrap(child);
}

size_t Json::size() const noexcept {
  if (type() == Type::array) return dom::array(JsonAccess::element(*this)).size();
  if (type() == Type::object) return dom::object(JsonAccess::element(*this)).size();
  return 0;
}

std::optional<std::string_view> Json::as_string() const noexcept {
  std::string_view v;
  if (!present_ || JsonAccess::element(*this).get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<int64_t> Json::as_int() const noexcept {
  int64_t v;
  if (!present_ || JsonAccess::element(*this).get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<double> Json::as_double() const noexcept {
  double v;
  if (!present_ || JsonAccess::element(*this).get_double().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<bool> Json::as_bool() const noexcept {
  bool v;
  if (!present_ || JsonAccess::element(*this).get_bool().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::string Json::dump() const {
  std::string out;
  if (present_) app::append_json(out, JsonAccess::element(*this));
  return out;
}

struct JsonParser::Impl {
  dom::parser parser;
};

JsonParser::JsonParser() : impl_(std::make_unique<Impl>()) {}
JsonParser::~JsonParser() = default;

Expected<Json> JsonParser::parse(std::string_view text) {
  dom::element root;
  if (auto error = impl_->parser.parse(text.data(), text.size()).get(root); error != simdjson::SUCCESS)
    return Error(std::make_error_code(std::errc::invalid_argument), std::string("not JSON: ") + simdjson::error_message(error));
  return JsonAccess::wrap(root);
}

JsonWriter& JsonWriter::string(std::string_view value) {
  app::JsonWriter(out_, in_string_).string(value);
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view text) {
  out_.append(text);
  return *this;
}

JsonWriter& JsonWriter::value(const Json& value) {
  if (value.exists()) app::JsonWriter(out_, in_string_).value(JsonAccess::element(value));
  else out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::integer(int64_t value) {
  app::JsonWriter(out_, in_string_).integer(value);
  return *this;
}

std::string json_quote(std::string_view value) {
  std::string out;
  app::append_quoted(out, value);
  return out;
}

}  // namespace capstan
