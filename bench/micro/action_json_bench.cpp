// The JSON work of the notify component per action message: parse_action_message (simdjson
// DOM, validating all of it) and the relay's reply, written as run_relay does it
// (begin_reply, BasicJsonWriter<util::ByteBuffer> with the data as a string holding JSON,
// end_reply). This is what makes an action cost more than an echo (bench/README.md, "Action
// vs echo"). Two messages: the small one of the chat tutorial and a ~1 KiB one whose text
// needs escaping.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "app/notify/action_json.hpp"
#include "util/byte_buffer.hpp"

namespace {

using capstan::app::ActionMessage;

constexpr std::string_view kSmall = R"({"action":"message","data":{"to":[2],"text":"hello"}})";

// A chat message to five users with a ~900-byte text holding quotes, a newline and non-ASCII
// characters, a reply id and an attachment: 1,024 bytes.
std::string large_message() {
  std::string text;
  const std::string_view sentence = R"(She said \"see you at 10\", then left.\n Grüße! )";
  while (text.size() + sentence.size() <= 880) text += sentence;
  std::string json = R"({"action":"message","data":{"to":[2,3,5,8,13],"reply_to":123456,"text":")" + text +
                     R"(","attachments":[{"name":"photo.jpg","size":183022,"type":"image/jpeg"}]}})";
  json.resize(1024, ' ');  // trailing whitespace is valid JSON; pads to exactly 1 KiB
  return json;
}

const std::string& message(int64_t which) {
  static const std::string small(kSmall), large = large_message();
  return which == 0 ? small : large;
}

void label(benchmark::State& state) { state.SetLabel(state.range(0) == 0 ? "small" : "1KiB"); }

// The relay's reply into a reused buffer, as NotifyComponent::run_relay writes it.
void write_reply(capstan::util::ByteBuffer& reply, const ActionMessage& m) {
  reply.clear();
  capstan::app::begin_reply(reply, m.action, true);
  capstan::app::BasicJsonWriter<capstan::util::ByteBuffer>(reply, true).value(m.data);
  capstan::app::end_reply(reply, true);
}

void BM_ActionParse(benchmark::State& state) {
  const std::string& text = message(state.range(0));
  for (auto _ : state) {
    ActionMessage m = capstan::app::parse_action_message(text);
    if (m.status != ActionMessage::Status::ok) {
      state.SkipWithError("message did not parse");
      break;
    }
    benchmark::DoNotOptimize(m);
  }
  label(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
}

void BM_ActionReply(benchmark::State& state) {
  const ActionMessage m = capstan::app::parse_action_message(message(state.range(0)));
  if (m.status != ActionMessage::Status::ok) {
    state.SkipWithError("message did not parse");
    return;
  }
  capstan::util::ByteBuffer reply;
  for (auto _ : state) {
    write_reply(reply, m);
    benchmark::DoNotOptimize(reply.data());
    benchmark::ClobberMemory();
  }
  label(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reply.size()));  // reply bytes
  state.SetItemsProcessed(state.iterations());
}

// Both, as one relayed message costs them.
void BM_ActionParseAndReply(benchmark::State& state) {
  const std::string& text = message(state.range(0));
  capstan::util::ByteBuffer reply;
  for (auto _ : state) {
    ActionMessage m = capstan::app::parse_action_message(text);
    write_reply(reply, m);
    benchmark::DoNotOptimize(reply.data());
    benchmark::ClobberMemory();
  }
  label(state);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));  // input bytes
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_ActionParse)->Arg(0)->Arg(1);
BENCHMARK(BM_ActionReply)->Arg(0)->Arg(1);
BENCHMARK(BM_ActionParseAndReply)->Arg(0)->Arg(1);

}  // namespace
