// A component type's own route keys: declared by the type (ComponentType::keys), checked by the
// loader it is given (the same faults, key paths and lines as the built-in keys), read back in
// for_route, listed in the reference; and notify's declarations agree with its defaults.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/notify/notify_keys.hpp"
#include "capstan/component_type.hpp"
#include "capstan/config.hpp"
#include "config/reference.hpp"

namespace capstan {
namespace {

enum class Mode : uint8_t { whisper, shout };

// What a program's own type looks like: keys with a bound, a choice and a table of words.
class LoudType final : public ComponentType {
 public:
  std::vector<KeyDecl> keys() const override {
    return {
        {.name = "volume", .type = KeyType::integer, .default_text = "5", .help = "how loud", .min = 1, .max = 11},
        {.name = "mode", .type = KeyType::choice, .default_text = "\"shout\"", .help = "the voice", .choices = {"whisper", "shout"}},
        {.name = "words", .type = KeyType::tables, .default_text = "[]", .help = "Words said on open.",
         .fields = {{.name = "text", .default_text = "(required)", .help = "the word"},
                    {.name = "repeat", .type = KeyType::integer, .default_text = "1", .help = "times"}}},
    };
  }
  std::vector<ConfigFault> check_keys(const RouteKeys& keys, const Config&) const override {
    std::vector<ConfigFault> faults;
    const auto words = keys.tables("words");
    for (size_t i = 0; i < words.size(); ++i)
      if (words[i].text("text").empty())
        faults.push_back({ConfigError::missing, "words[" + std::to_string(i) + "].text", words[i].line, "missing: a word"});
    return faults;
  }
  Expected<ComponentFactory> for_route(const RouteConfig&) override {
    return ComponentFactory([] { return std::unique_ptr<Component>(); });
  }
};

ComponentTypes with_loud() {
  ComponentTypes types = builtin_component_types();
  types["loud"] = std::make_shared<LoudType>();
  return types;
}

ConfigFault one_fault(std::string_view toml) {
  const LoadedConfig c = load_config_string(toml, with_loud());
  EXPECT_EQ(c.errors.size(), 1u) << toml;
  return c.errors.empty() ? ConfigFault{} : c.errors.front();
}

const std::string kHead = "[[routes]]\ncomponent = \"loud\"\n";

TEST(ComponentKeys, AProgramsTypeDeclaresKeysTheLoaderChecks) {
  const LoadedConfig c = load_config_string(
      kHead + "volume = 11\nmode = \"whisper\"\n[[routes.words]]\ntext = \"hi\"\nrepeat = 2\n[[routes.words]]\ntext = \"bye\"\n",
      with_loud());
  ASSERT_TRUE(c.ok()) << c.errors.front().key << ": " << c.errors.front().message;
  const RouteKeys& keys = c.config.routes[0].keys;
  EXPECT_EQ(keys.integer("volume", 5), 11);
  EXPECT_EQ(keys.choice("mode", Mode::shout), Mode::whisper);
  ASSERT_EQ(keys.tables("words").size(), 2u);
  EXPECT_EQ(keys.tables("words")[0].integer("repeat", 1), 2);
  EXPECT_EQ(keys.tables("words")[1].integer("repeat", 1), 1);  // the type's fallback
  EXPECT_EQ(keys.line_of("volume"), 3);
}

TEST(ComponentKeys, FaultsNameTheKeyPathAndLine) {
  ConfigFault f = one_fault(kHead + "volume = 12\n");
  EXPECT_EQ(f.code, ConfigError::out_of_range);
  EXPECT_EQ(f.key, "routes[0].volume");
  EXPECT_EQ(f.line, 3);
  f = one_fault(kHead + "volume = \"loud\"\n");
  EXPECT_EQ(f.code, ConfigError::wrong_type);
  EXPECT_EQ(f.message, "expected an integer");
  f = one_fault(kHead + "mode = \"sing\"\n");
  EXPECT_EQ(f.code, ConfigError::not_a_choice);
  EXPECT_EQ(f.message, "\"sing\" is not \"whisper\" or \"shout\"");
  f = one_fault(kHead + "[[routes.words]]\ntext = \"a\"\nloudly = true\n");
  EXPECT_EQ(f.code, ConfigError::unknown_key);
  EXPECT_EQ(f.key, "routes[0].words[0].loudly");
  EXPECT_EQ(f.line, 5);
  f = one_fault(kHead + "words = 3\n");
  EXPECT_EQ(f.key, "routes[0].words");
  EXPECT_EQ(f.message, "expected [[routes.words]] tables");
  // The type's own rule, prefixed with the route.
  f = one_fault(kHead + "[[routes.words]]\nrepeat = 2\n");
  EXPECT_EQ(f.key, "routes[0].words[0].text");
  EXPECT_EQ(f.line, 3);
  // Another type's keys are unknown here, and this type's on another's route.
  EXPECT_EQ(one_fault(kHead + "data_as_string = true\n").code, ConfigError::unknown_key);
  EXPECT_EQ(one_fault("[[routes]]\ncomponent = \"notify\"\nvolume = 3\n").key, "routes[0].volume");
}

TEST(ComponentKeys, WithoutTheTypeItsKeysAreUnknown) {
  const LoadedConfig c = load_config_string(kHead + "volume = 3\n");  // the built-in types only
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0].key, "routes[0].volume");
  EXPECT_EQ(c.errors[0].message, "unknown key");
}

TEST(ComponentKeys, TheReferenceListsEachTypesKeys) {
  const std::string reference = config::reference_markdown(with_loud());
  const size_t loud = reference.find("### component = \"loud\"");
  ASSERT_NE(loud, std::string::npos);
  EXPECT_NE(reference.find("| `volume` | integer (1 to 11) | `5` | how loud |", loud), std::string::npos);
  EXPECT_NE(reference.find("| `mode` | \"whisper\" or \"shout\" |", loud), std::string::npos);
  EXPECT_NE(reference.find("#### [[routes.words]]\n\nWords said on open.", loud), std::string::npos);
}

TEST(ComponentKeys, NotifysDefaultTextsAreItsOptionsDefaults) {
  // Each declared default, written into a file, reads back as NotifyOptions' own default.
  std::string toml = "[[routes]]\ncomponent = \"notify\"\n";
  for (const KeyDecl& k : app::notify_keys())
    if (k.type != KeyType::tables) toml += k.name + " = " + k.default_text + "\n";
  const LoadedConfig c = load_config_string(toml);
  ASSERT_TRUE(c.ok()) << c.errors.front().key << ": " << c.errors.front().message;
  const NotifyOptions read = app::notify_options(c.config.routes[0].keys);
  const NotifyOptions defaults;
  EXPECT_EQ(read.data_as_string, defaults.data_as_string);
  EXPECT_EQ(read.fatal_close_code, defaults.fatal_close_code);
  EXPECT_EQ(read.binary_messages, defaults.binary_messages);
  EXPECT_EQ(read.unknown_action_message, defaults.unknown_action_message);
  // And the same when the file says nothing.
  EXPECT_EQ(app::notify_options(RouteKeys{}).unknown_action_message, defaults.unknown_action_message);
}

TEST(ComponentKeys, NotifyReadsItsActions) {
  const LoadedConfig c = load_config_string(
      "[users]\nprovider = \"sqlite\"\ndatabase = \"d\"\n[[routes]]\ncomponent = \"notify\"\n"
      "[[routes.actions]]\nname = \"m\"\nkind = \"relay\"\n"
      "[[routes.actions]]\nname = \"s\"\nkind = \"sql\"\nquery = \"SELECT 1 WHERE :id\"\nto = \"sender\"\n");
  ASSERT_TRUE(c.ok()) << c.errors.front().key << ": " << c.errors.front().message;
  const std::vector<app::ActionDef> actions = app::configured_actions(c.config.routes[0].keys);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, app::ActionDef::Kind::relay);
  EXPECT_EQ(actions[0].to, Target::all);
  EXPECT_EQ(actions[0].not_found, "Not found");
  EXPECT_EQ(actions[1].kind, app::ActionDef::Kind::sql);
  EXPECT_EQ(actions[1].to, Target::sender);
  EXPECT_EQ(actions[1].parameters, std::vector<std::string>{"id"});
}

}  // namespace
}  // namespace capstan
