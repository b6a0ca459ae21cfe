#pragma once
// Test doubles for sealing: a RecordingSigner on a fresh in-memory Ed25519
// key (it refuses anything but seal payloads, as the real one does, and
// can be told to fail or to hold signing until released), and a RecordingObserver that remembers what it was
// told. Thread-safe. Test-only.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "auth/ca/ed25519_key.h"
#include "broker/session/recorder.h"
#include "recorder/seal_format.h"

namespace portcullis::testing {

class TestSigner final : public session::RecordingSigner {
 public:
  TestSigner() : key_(ca::Ed25519Key::Generate()) {}
  absl::StatusOr<std::string> SignRecordingSeal(std::string_view payload) override {
    if (!recorder::IsSealPayload(payload)) {
      return absl::InvalidArgumentError("recording key: not a seal payload");
    }
    {
      std::unique_lock<std::mutex> l(gate_mu_);
      if (held_) ++held_calls;
      gate_cv_.wait(l, [this] { return !held_; });
    }
    if (fail.load()) return absl::UnavailableError("recording key: signer unavailable");
    ++signatures;
    return key_.Sign(payload);
  }
  std::string RecordingPublicKey() const override { return key_.PublicRaw(); }
  const ca::Ed25519Key& key() const { return key_; }

  // Signing blocks from Hold() until Release().
  void Hold() {
    std::lock_guard<std::mutex> l(gate_mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(gate_mu_);
      held_ = false;
    }
    gate_cv_.notify_all();
  }

  std::atomic<bool> fail{false};
  std::atomic<int> signatures{0};
  std::atomic<int> held_calls{0};  // calls that found signing held

 private:
  ca::Ed25519Key key_;
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool held_ = false;  // guarded by gate_mu_
};

class TestObserver final : public session::RecordingObserver {
 public:
  absl::Status Opened(const session::RecordingInfo& info, const std::string& path) override {
    std::lock_guard<std::mutex> l(mu_);
    opened.push_back(path);
    return refuse;
  }
  void Closed(const session::RecordingEnd& end) override {
    std::lock_guard<std::mutex> l(mu_);
    closed.push_back(end);
  }
  std::vector<session::RecordingEnd> Ends() {
    std::lock_guard<std::mutex> l(mu_);
    return closed;
  }
  std::vector<std::string> Paths() {
    std::lock_guard<std::mutex> l(mu_);
    return opened;
  }

  absl::Status refuse;  // set before use: returned by Opened()

 private:
  std::mutex mu_;
  std::vector<std::string> opened;
  std::vector<session::RecordingEnd> closed;
};

}  // namespace portcullis::testing
