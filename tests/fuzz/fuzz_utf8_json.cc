// Fuzzes the terminal-bytes-to-JSON escaper of the recorder. Properties:
// the output is always a valid JSON string body (nlohmann's parser checks
// UTF-8 strictly), and escaping is independent of how the bytes were split
// into chunks (whole, at one point chosen by the input, byte by byte).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "recorder/utf8_json.h"

using portcullis::recorder::AppendJsonEscaped;
using portcullis::recorder::Utf8JsonEscaper;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string whole;
  AppendJsonEscaped(in, &whole);

  const size_t split = size == 0 ? 0 : data[0] % (size + 1);
  Utf8JsonEscaper two;
  std::string split_out;
  two.Append(in.substr(0, split), &split_out);
  two.Append(in.substr(split), &split_out);
  two.Finish(&split_out);

  Utf8JsonEscaper bytewise;
  std::string bytewise_out;
  for (size_t i = 0; i < size; ++i) bytewise.Append(in.substr(i, 1), &bytewise_out);
  bytewise.Finish(&bytewise_out);

  if (split_out != whole || bytewise_out != whole) std::abort();
  auto j = nlohmann::json::parse("\"" + whole + "\"", nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) std::abort();
  return 0;
}
