#include "tests/recorder/recording_files.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace portcullis::testing {

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::vector<std::string> SealLines(const std::string& seal_path) {
  auto text = ReadWholeFile(seal_path);
  return text.ok() ? SplitLines(*text) : std::vector<std::string>{};
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit,
               std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(every);
  }
  return true;
}

bool WaitForCheckpoints(const std::string& seal_path, size_t n, std::chrono::seconds limit) {
  return WaitUntil([&] { return SealLines(seal_path).size() >= n; }, limit,
                   std::chrono::milliseconds(10));
}

std::vector<nlohmann::json> ParseCastLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : SplitLines(text)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    out.push_back(std::move(j));
  }
  return out;
}

std::string EventData(const std::string& text, const std::string& type) {
  std::string data;
  auto lines = ParseCastLines(text);
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& e = lines[i];
    if (!e.is_array() || e.size() != 3) {
      ADD_FAILURE() << "not an event: " << e.dump();
      continue;
    }
    if (e[1] == type) data += e[2].get<std::string>();
  }
  return data;
}

PtyResult RunInPty(const std::vector<std::string>& argv, int timeout_ms) {
  PtyResult result;
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return result;
  if (pid == 0) {
    ::setenv("LC_ALL", "C.UTF-8", 1);
    ::setenv("PYTHONIOENCODING", "utf-8", 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EIO once the program and its terminal are gone
    result.out.append(buf, static_cast<size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

}  // namespace portcullis::testing
