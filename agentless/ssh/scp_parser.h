#pragma once
// ScpAuditor: watches a legacy SCP (rcp protocol, `scp -O`) exec session and
// emits one FileTransferEvent per file (path, size, SHA-256).
//
// The protocol: the source (the client for "scp -t", the target for
// "scp -f") sends records "C<mode> <size> <name>\n" then <size> bytes then a
// status byte; "D<mode> 0 <name>\n" ... "E\n" around a directory's entries;
// "T<mtime> 0 <atime> 0\n" before a file or directory with -p; "\1msg\n" /
// "\2msg\n" for errors. The sink answers every record and every file's data
// with "\0" (ok), "\1msg\n" (error) or "\2msg\n" (fatal), plus one "\0" before
// the first record. The source waits for each answer and skips the file or
// directory on an error, so the auditor pairs answers with records in order
// and only then knows how to read what follows. Source bytes that arrive
// before their answer (only a misbehaving sender does that) are held, not
// forwarded, until the answer comes (<= 64 KiB, else an error): the
// receiver never gets a byte the auditor has not interpreted first.
//
// Bounds mirror OpenSSH's scp so the auditor never reads the stream
// differently from the real peer: a record or message line may hold at most
// 2046 bytes before its newline (OpenSSH's 2048-byte line buffer; a longer
// line is cut there and the rest read as the next record), names may not be
// empty, ".", ".." or contain '/', sizes are at most 2^63-1, directories nest
// at most 256 deep.
//
// Relay contract (see relay_output.h): feed every byte read from either side
// and write out exactly the bytes returned. On an error, deliver what was
// returned (interpreted before the fault), close the session and call
// Finish(). Errors are
// sticky. Not thread-safe: owned by the session thread; the callback runs
// synchronously inside Feed*/Finish.
//
// Event paths are best effort, because only the target knows whether PATH
// is a directory: for downloads, the directory of PATH joined with the
// record names; for uploads, PATH joined with the record names, except that
// a top-level record whose name equals PATH's last component is PATH itself
// (unless -d). E.g. "scp -t /tmp" + "C... a.txt" -> /tmp/a.txt;
// "scp -t /tmp/a.txt" + "C... a.txt" -> /tmp/a.txt. A download whose PATH
// is a shell pattern names each top-level file or directory from
// ScpCommand::expanded when given (the next expanded path, in order, whose
// last component is the record's name: "scp -f /tmp/f*/x" expanded to
// /tmp/f1/x /tmp/f2/x names both files), and every event of a pattern
// command carries the pattern (FileTransferEvent::pattern).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agentless/ssh/file_transfer_event.h"
#include "agentless/ssh/offset_ordered_hash.h"
#include "agentless/ssh/relay_output.h"
#include "agentless/ssh/scp_command.h"

namespace portcullis::ssh {

class ScpAuditor {
 public:
  static constexpr size_t kMaxLine = 2046;
  static constexpr size_t kMaxBacklog = 64 * 1024;
  static constexpr size_t kMaxDepth = 256;
  static constexpr size_t kMaxQueuedAnswers = 64;

  ScpAuditor(ScpCommand cmd, std::function<void(const FileTransferEvent&)> on_transfer);
  ~ScpAuditor();
  ScpAuditor(const ScpAuditor&) = delete;
  ScpAuditor& operator=(const ScpAuditor&) = delete;

  [[nodiscard]] RelayOutput FeedClientToServer(std::string_view bytes);
  [[nodiscard]] RelayOutput FeedServerToClient(std::string_view bytes);

  // The session ended: a file whose data or final answer is missing is
  // emitted with complete = false. Idempotent; Feed* calls fail afterwards.
  void Finish();

  // Files fully transferred and acknowledged so far (for tests and logs).
  uint64_t files_completed() const { return files_completed_; }

 private:
  enum class Answer { kOk, kError, kFatal };
  // What the source waits for an answer to.
  enum class Awaiting { kNone, kStart, kTimes, kFile, kDir, kEnd, kFileEnd };
  enum class SourceState { kLine, kData, kDataStatus, kStatusLine, kDone };
  enum class SinkState { kByte, kErrorLine, kIgnore };
  struct File {
    std::string path;  // raw
    uint64_t size = 0;
    uint64_t received = 0;
    Sha256Stream sha;
    bool accepted = false;      // the sink acknowledged the C record
    bool source_error = false;  // the source's status after the data was an error
  };

  using Out = std::vector<std::string_view>;
  RelayOutput Feed(std::string_view bytes, bool from_client);
  absl::Status FeedSource(std::string_view bytes, Out* to_sink);
  absl::Status FeedSink(std::string_view bytes, Out* to_source, Out* to_sink);
  // Interprets source bytes until `in` is used up or an answer is needed
  // (the rest is held); *used = bytes interpreted, a prefix of `in`.
  absl::Status RunSource(std::string_view in, size_t* used);
  absl::Status ConsumeSource(std::string_view& in);
  absl::Status OnSourceLine();
  void ApplyAnswer(Answer a);
  std::string PathFor(std::string_view name);
  void EmitFile(std::string_view incomplete_reason);
  absl::Status Fail(absl::Status s);

  ScpCommand cmd_;
  std::function<void(const FileTransferEvent&)> on_transfer_;
  absl::Status status_;
  bool finished_ = false;
  uint64_t files_completed_ = 0;

  // Source side.
  SourceState state_ = SourceState::kLine;
  Awaiting awaiting_ = Awaiting::kStart;
  std::string line_;     // record being read (without '\n')
  std::string backlog_;   // source bytes received while awaiting an answer
  std::string released_;  // backlog being interpreted; returned views point here
  std::vector<std::string> dirs_;  // raw paths of the directories entered
  std::string pending_dir_;        // D record waiting for its answer
  std::unique_ptr<File> file_;  // the file being transferred
  size_t next_expanded_ = 0;    // next unused entry of cmd_.expanded
  bool status_line_fatal_ = false;

  // Sink side.
  SinkState sink_state_ = SinkState::kByte;
  std::string sink_line_;
  std::deque<Answer> answers_;
};

}  // namespace portcullis::ssh
