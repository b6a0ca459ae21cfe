#pragma once
// Shared helper: a YAML::LoadAll that terminates and does
// not throw. yaml-cpp 0.7 (Debian 12) loops forever, allocating, on some
// malformed streams such as a stray top-level ',' or "--- ," (upstream
// jbeder/yaml-cpp#1040, fixed by PR #1319 after 0.7). We first drive the same
// parser with a no-op event handler and refuse the input when a document
// starts where the previous one did (no progress), then load it for real.
// Pure function, thread-safe.

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace portcullis {

struct YamlLoadError {
  int line = 1;         // 1-based
  std::string message;  // one line, printable
};

// Parses every document of `text` into `docs`. On failure returns false and
// fills `error`; `docs` is then unspecified.
bool LoadAllYaml(const std::string& text, std::vector<YAML::Node>* docs, YamlLoadError* error);

}  // namespace portcullis
