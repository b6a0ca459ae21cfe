#pragma once
// SourceThrottle: failed logins counted per source address (no port), so
// that one address cannot try many user names (each below its own
// lockout) without limit. A source with `max_failures` failures within
// `window` is refused until its oldest counted failure lapses. Memory is
// bounded: at most kMaxSources addresses are tracked; beyond, lapsed
// entries are dropped first, then the least recently failing one.
// In memory, per broker process. Thread-safe (one mutex).

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace portcullis::core {

class SourceThrottle {
 public:
  static constexpr size_t kMaxSources = 65536;

  // The address a source is counted under: the host of "ipv4:H:PORT",
  // "ipv6:[H]:PORT" (gRPC peers), "H:PORT" or "[H]:PORT" (the listeners),
  // or the string as it is.
  static std::string HostOf(std::string_view source);

  // `max_failures` 0 disables the throttle.
  SourceThrottle(int max_failures, std::chrono::seconds window)
      : max_failures_(max_failures), window_(window.count()) {}

  // True iff `source` has reached the limit at `now` (Unix seconds).
  bool Blocked(std::string_view source, int64_t now);
  // Counts a failure of `source` at `now`; returns how many it has in the
  // window now (0 when disabled or the source is empty).
  int Record(std::string_view source, int64_t now);
  int max_failures() const { return max_failures_; }
  int64_t window_seconds() const { return window_; }
  size_t tracked() const;

 private:
  struct Entry {
    std::deque<int64_t> times;  // oldest first, at most max_failures_
  };
  void Lapse(Entry& e, int64_t now) const;
  void MakeRoom(int64_t now);

  const int max_failures_;
  const int64_t window_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> sources_;
};

}  // namespace portcullis::core
