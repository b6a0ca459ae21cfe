#pragma once
// Injected time source. Everything time-dependent (TOTP, certificate
// validity, token expiry, time windows, lockout, max_session) takes a Clock so
// tests are deterministic. Implementations are thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace portcullis {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  int64_t NowUnix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               Now().time_since_epoch())
        .count();
  }
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static SystemClock* Get() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock tests set by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds = 1'700'000'000)
      : micros_(unix_seconds * 1'000'000) {}
  TimePoint Now() const override {
    return TimePoint(std::chrono::microseconds(micros_.load()));
  }
  void SetUnix(int64_t unix_seconds) { micros_ = unix_seconds * 1'000'000; }
  void Advance(std::chrono::microseconds d) { micros_ += d.count(); }

 private:
  std::atomic<int64_t> micros_;
};

inline int64_t ToUnix(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
      .count();
}
inline TimePoint FromUnix(int64_t s) {
  return TimePoint(std::chrono::seconds(s));
}

}  // namespace portcullis
