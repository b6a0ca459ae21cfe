#pragma once
// Test helpers for recorder tests: reading a .cast file back, and running a
// program on a fresh pseudo-terminal (asciinema needs /dev/tty). Test-only.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace portcullis::testing {

// The file's lines without their '\n'. A last line without '\n' is kept.
std::vector<std::string> SplitLines(const std::string& text);

// Every line parsed as JSON; a line that is not valid JSON (or not valid
// UTF-8) fails the current test and is returned as a discarded value.
std::vector<nlohmann::json> ParseCastLines(const std::string& text);

// The concatenated data of every event of `type` ("o", "i", ...).
std::string EventData(const std::string& text, const std::string& type);

// The complete and partial lines of a seal file (none if it is missing).
std::vector<std::string> SealLines(const std::string& seal_path);
// Polls `done` (real time) until it holds or `limit` passes; its last answer.
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(10),
               std::chrono::milliseconds every = std::chrono::milliseconds(1));
// Waits (real time) until the seal has at least `n` lines.
bool WaitForCheckpoints(const std::string& seal_path, size_t n,
                        std::chrono::seconds limit = std::chrono::seconds(5));

struct PtyResult {
  int exit_code = -1;
  std::string out;  // everything the program wrote to its terminal
  bool timed_out = false;
};
// Runs argv with a new pseudo-terminal as its controlling terminal, stdin,
// stdout and stderr, in a UTF-8 locale, and collects what it writes. Kills
// it by PID after `timeout_ms`.
PtyResult RunInPty(const std::vector<std::string>& argv, int timeout_ms = 30000);

}  // namespace portcullis::testing
