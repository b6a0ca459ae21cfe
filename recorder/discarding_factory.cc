#include "recorder/discarding_factory.h"

namespace portcullis::recorder {
namespace {

class DiscardingRecorder final : public session::TerminalRecorder {
 public:
  void Output(std::string_view) override {}
  void Input(std::string_view) override {}
  void Resize(int, int) override {}
  void Marker(std::string_view) override {}
  absl::Status Health() const override { return absl::OkStatus(); }
  absl::Status Close(std::string_view) override { return absl::OkStatus(); }
};

class DiscardingGraphicalRecorder final : public session::GraphicalRecorder {
 public:
  void Resize(int, int) override {}
  void Frame(int, int, int, int, const uint8_t*, size_t) override {}
  void Key(uint32_t, bool) override {}
  void Pointer(int, int, uint32_t) override {}
  void Cursor(int, int, int, int, const uint8_t*) override {}
  void Clipboard(std::string_view, bool) override {}
  void Marker(std::string_view) override {}
  absl::Status Health() const override { return absl::OkStatus(); }
  absl::Status Close(std::string_view) override { return absl::OkStatus(); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<session::GraphicalRecorder>> DiscardingFactory::OpenGraphical(
    const session::RecordingInfo&) {
  return std::make_unique<DiscardingGraphicalRecorder>();
}

absl::StatusOr<std::unique_ptr<session::TerminalRecorder>> DiscardingFactory::OpenTerminal(
    const session::RecordingInfo&) {
  return std::make_unique<DiscardingRecorder>();
}

}  // namespace portcullis::recorder
