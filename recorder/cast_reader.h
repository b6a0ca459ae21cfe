#pragma once
// CastReader: the bounded reader of asciicast v2 recordings (untrusted
// bytes: a reviewer may open any file). Reads a file sequentially in
// bounded memory; every line is length-capped and strictly parsed; a
// malformed line is an InvalidArgument naming its line number and byte
// offset, never a crash. Not thread-safe; one reader per thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace portcullis::recorder {

struct CastLimits {
  uint64_t max_file_bytes = uint64_t{16} << 30;
  size_t max_header_bytes = 64u << 10;
  size_t max_event_bytes = 8u << 20;  // one event line
};

struct CastHeader {
  int version = 2;
  int width = 0, height = 0;
  int64_t timestamp = 0;  // unix seconds of the start
  std::string title, command, term;
  // From the "portcullis" object; empty for foreign files.
  std::string session_id, user, login, target, protocol, source;
  int channel = 0;
  bool record_input = false;
  std::string recording_id() const {
    return session_id.empty() ? "" : session_id + "." + std::to_string(channel);
  }
};

struct CastEvent {
  int64_t micros = 0;  // since the start
  char type = 'o';     // 'o', 'i', 'r', 'm'
  std::string data;    // decoded (UTF-8)
  uint64_t offset = 0; // byte offset of the line in the file
};

// Parse one line (without '\n'); exposed for the fuzz target.
[[nodiscard]] absl::StatusOr<CastHeader> ParseCastHeader(std::string_view line);
[[nodiscard]] absl::Status ParseCastEvent(std::string_view line, CastEvent* ev);

class CastReader {
 public:
  // Opens `path` and reads its header line. Fails for a missing file, a
  // file over max_file_bytes, or a bad header.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CastReader>> Open(const std::string& path,
                                                                      CastLimits limits = {});
  ~CastReader();
  const CastHeader& header() const { return header_; }
  uint64_t file_size() const { return file_size_; }
  // The next event: true, false at a clean end of file, or an error. A last
  // line without '\n' (a recording cut by a crash) ends the file cleanly
  // unless it parses.
  [[nodiscard]] absl::StatusOr<bool> Next(CastEvent* ev);
  // Continues reading at `offset`, which must be the start of a line (a
  // checkpoint offset); events are then read from there.
  [[nodiscard]] absl::Status Seek(uint64_t offset);
  // The raw bytes of the header line, with its '\n'.
  const std::string& header_line() const { return header_line_; }

 private:
  CastReader(int fd, CastLimits limits) : fd_(fd), limits_(limits) {}
  [[nodiscard]] absl::StatusOr<bool> ReadLine(std::string_view* line, uint64_t* at);

  int fd_;
  CastLimits limits_;
  CastHeader header_;
  std::string header_line_;
  uint64_t file_size_ = 0;
  uint64_t line_no_ = 0;
  uint64_t pos_ = 0;       // file offset of buf_[begin_]
  std::string buf_;
  size_t begin_ = 0;
  bool eof_ = false;
  bool last_terminated_ = true;  // the line ReadLine returned ended with '\n'
};

}  // namespace portcullis::recorder
