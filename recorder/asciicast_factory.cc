#include "recorder/asciicast_factory.h"

#include <utility>

#include "recorder/asciicast_format.h"
#include "recorder/asciicast_writer.h"

namespace portcullis::recorder {

AsciicastFactory::AsciicastFactory(AsciicastFactoryOptions options, const Clock* clock)
    : dir_(std::move(options), clock) {}

std::string AsciicastFactory::PathFor(const session::RecordingInfo& info, TimePoint start) const {
  return dir_.PathFor(info, start, AsciicastFormat());
}

absl::StatusOr<std::unique_ptr<session::TerminalRecorder>> AsciicastFactory::OpenTerminal(
    const session::RecordingInfo& info) {
  auto stream = dir_.Open(info, AsciicastFormat(), NewAsciicastEncoder());
  if (!stream.ok()) return stream.status();
  return std::make_unique<AsciicastWriter>(std::move(*stream));
}

}  // namespace portcullis::recorder
