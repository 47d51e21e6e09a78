// UTF-8 validation of text messages (ws::is_valid_utf8, RFC 6455 §8.1): every text message is
// checked byte by byte before the application sees it. ASCII is the common case (JSON) and
// takes the 8-bytes-at-a-time path; mixed text (2-, 3- and 4-byte characters between ASCII)
// takes the per-character state machine. 20 B is the echo benchmark's message size.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "ws/utf8.hpp"

namespace {

// JSON-like ASCII, repeated and cut to `size` bytes.
std::string ascii_text(size_t size) {
  const std::string_view pattern = R"({"action":"message","data":{"text":"hello world"}} )";
  std::string text;
  while (text.size() < size) text += pattern;
  text.resize(size);
  return text;
}

// Latin with accents (2 bytes), CJK and the euro sign (3 bytes) and an emoji (4 bytes) between
// ASCII: 17 of every 25 bytes belong to multi-byte characters. Cut at a character boundary,
// then padded with ASCII to exactly `size` bytes.
std::string mixed_text(size_t size) {
  const std::string_view chars[] = {"G", "r", "ü", "ß", "e", " ", "日", "本", " ", "€", "5", " ", "😀", " "};
  std::string text;
  for (size_t i = 0; text.size() + chars[i].size() <= size; i = (i + 1) % std::size(chars)) text += chars[i];
  text.append(size - text.size(), '.');
  return text;
}

void run(benchmark::State& state, const std::string& text) {
  if (!capstan::ws::is_valid_utf8(text)) {
    state.SkipWithError("test text is not valid UTF-8");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.data());
    bool ok = capstan::ws::is_valid_utf8(text);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_Utf8_Ascii(benchmark::State& state) { run(state, ascii_text(static_cast<size_t>(state.range(0)))); }
void BM_Utf8_Mixed(benchmark::State& state) { run(state, mixed_text(static_cast<size_t>(state.range(0)))); }
BENCHMARK(BM_Utf8_Ascii)->Arg(20)->Arg(1024)->Arg(64 * 1024);
BENCHMARK(BM_Utf8_Mixed)->Arg(20)->Arg(1024)->Arg(64 * 1024);

}  // namespace
