#pragma once
// A GraphicalRecorder for tests, until the graphical recording format is
// wired: it keeps its own B, G, R, unused framebuffer from Resize/Frame and
// counts input, cursor and clipboard events, in a state the test reads
// while the session runs. Health() can be made to fail. Test-only code.

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/session/recorder.h"

namespace portcullis::testing {

struct RecorderState {
  mutable std::mutex mu;
  int width = 0, height = 0;
  std::string fb;  // width * height * 4
  int frames = 0, resizes = 0, keys = 0, pointers = 0, cursors = 0, clipboards = 0;
  std::vector<uint32_t> keysyms;
  std::string closed_reason;
  bool closed = false;
  session::RecordingInfo info;
  std::atomic<bool> fail{false};

  std::string Fb() const {
    std::lock_guard<std::mutex> l(mu);
    return fb;
  }
};

class FakeGraphicalRecorder final : public session::GraphicalRecorder {
 public:
  explicit FakeGraphicalRecorder(std::shared_ptr<RecorderState> s) : s_(std::move(s)) {}
  void Resize(int w, int h) override {
    std::lock_guard<std::mutex> l(s_->mu);
    s_->width = w;
    s_->height = h;
    s_->fb.assign(static_cast<size_t>(w) * h * 4, '\0');
    ++s_->resizes;
  }
  void Frame(int x, int y, int w, int h, const uint8_t* px, size_t stride) override {
    std::lock_guard<std::mutex> l(s_->mu);
    ++s_->frames;
    for (int row = 0; row < h; ++row) {
      if (y + row >= s_->height || x + w > s_->width) break;
      memcpy(&s_->fb[(static_cast<size_t>(y + row) * s_->width + x) * 4], px + row * stride,
             static_cast<size_t>(w) * 4);
    }
  }
  void Key(uint32_t keysym, bool down) override {
    std::lock_guard<std::mutex> l(s_->mu);
    ++s_->keys;
    if (down) s_->keysyms.push_back(keysym);
  }
  void Pointer(int, int, uint32_t) override {
    std::lock_guard<std::mutex> l(s_->mu);
    ++s_->pointers;
  }
  void Cursor(int, int, int, int, const uint8_t*) override {
    std::lock_guard<std::mutex> l(s_->mu);
    ++s_->cursors;
  }
  void Clipboard(std::string_view, bool) override {
    std::lock_guard<std::mutex> l(s_->mu);
    ++s_->clipboards;
  }
  void Marker(std::string_view) override {}
  absl::Status Health() const override {
    return s_->fail ? absl::DataLossError("disk full (test)") : absl::OkStatus();
  }
  absl::Status Close(std::string_view reason) override {
    std::lock_guard<std::mutex> l(s_->mu);
    if (!s_->closed) s_->closed_reason = std::string(reason);
    s_->closed = true;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<RecorderState> s_;
};

// Hands each session a FakeGraphicalRecorder; the test sees the last one.
class FakeRecorderFactory final : public session::RecorderFactory {
 public:
  absl::StatusOr<std::unique_ptr<session::TerminalRecorder>> OpenTerminal(
      const session::RecordingInfo&) override {
    return absl::UnimplementedError("terminal");
  }
  absl::StatusOr<std::unique_ptr<session::GraphicalRecorder>> OpenGraphical(
      const session::RecordingInfo& info) override {
    std::lock_guard<std::mutex> l(mu_);
    if (refuse_) return absl::UnavailableError("recordings directory not writable (test)");
    last_ = std::make_shared<RecorderState>();
    last_->info = info;
    return std::unique_ptr<session::GraphicalRecorder>(new FakeGraphicalRecorder(last_));
  }
  absl::Status Ready() override { return absl::OkStatus(); }
  std::shared_ptr<RecorderState> last() {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }
  void set_refuse(bool r) {
    std::lock_guard<std::mutex> l(mu_);
    refuse_ = r;
  }

 private:
  std::mutex mu_;
  bool refuse_ = false;
  std::shared_ptr<RecorderState> last_;
};

}  // namespace portcullis::testing
