#include "recorder/asciicast_factory.h"

#include <algorithm>
#include <utility>

#include "recorder/asciicast_format.h"
#include "recorder/asciicast_writer.h"
#include "recorder/graphical/graphical_format.h"
#include "recorder/graphical/graphical_writer.h"

namespace portcullis::recorder {

AsciicastFactory::AsciicastFactory(AsciicastFactoryOptions options, const Clock* clock)
    : dir_(options, clock),
      graphical_buffer_cap_(
          std::max(options.buffer_cap, GraphicalWriterOptions::kGraphicalBufferCap)) {}

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

namespace portcullis::recorder {

std::string AsciicastFactory::GraphicalPathFor(const session::RecordingInfo& info,
                                               TimePoint start) const {
  return dir_.PathFor(info, start, GraphicalFormat());
}

absl::StatusOr<std::unique_ptr<session::GraphicalRecorder>> AsciicastFactory::OpenGraphical(
    const session::RecordingInfo& info) {
  auto stream = dir_.Open(info, GraphicalFormat(), NewGraphicalEncoder(), graphical_buffer_cap_);
  if (!stream.ok()) return stream.status();
  GraphicalWriterOptions opts;
  opts.buffer_cap = graphical_buffer_cap_;
  return std::make_unique<GraphicalWriter>(std::move(*stream), opts);
}

}  // namespace portcullis::recorder
