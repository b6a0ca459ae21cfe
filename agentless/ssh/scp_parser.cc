#include "agentless/ssh/scp_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "broker/common/absl_fmt.h"
#include "broker/common/status_macros.h"

namespace portcullis::ssh {
namespace {

constexpr uint64_t kMaxFileSize = 0x7fffffffffffffffULL;  // OpenSSH's off_t limit

absl::Status Protocol(std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("SCP protocol error: {}", what));
}

// Reads 1..max_digits decimal digits from the front of *s.
bool TakeNumber(std::string_view* s, size_t max_digits, uint64_t limit, uint64_t* out) {
  size_t n = 0;
  uint64_t v = 0;
  while (n < s->size() && (*s)[n] >= '0' && (*s)[n] <= '9') {
    const uint64_t d = static_cast<uint64_t>((*s)[n] - '0');
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
    if (++n > max_digits) return false;
  }
  if (n == 0) return false;
  s->remove_prefix(n);
  *out = v;
  return true;
}

bool TakeChar(std::string_view* s, char c) {
  if (s->empty() || s->front() != c) return false;
  s->remove_prefix(1);
  return true;
}

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return fmt::format("{}{}", dir, name);
  return fmt::format("{}/{}", dir, name);
}

std::string_view StripTrailingSlashes(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  return p;
}

}  // namespace

ScpAuditor::ScpAuditor(ScpCommand cmd, std::function<void(const FileTransferEvent&)> on_transfer)
    : cmd_(std::move(cmd)), on_transfer_(std::move(on_transfer)) {}

ScpAuditor::~ScpAuditor() = default;

absl::Status ScpAuditor::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

RelayOutput ScpAuditor::FeedClientToServer(std::string_view bytes) { return Feed(bytes, true); }

RelayOutput ScpAuditor::FeedServerToClient(std::string_view bytes) { return Feed(bytes, false); }

RelayOutput ScpAuditor::Feed(std::string_view bytes, bool from_client) {
  RelayOutput out;
  if (finished_) {
    out.status = absl::FailedPreconditionError("SCP auditor already finished");
    return out;
  }
  if (!status_.ok()) {
    out.status = status_;
    return out;
  }
  // The source is the client for uploads ("scp -t"), the target for downloads.
  const bool from_source = from_client == (cmd_.direction == FileDirection::kUpload);
  Out* to_peer = from_client ? &out.to_server : &out.to_client;
  Out* to_sender = from_client ? &out.to_client : &out.to_server;
  absl::Status s = from_source ? FeedSource(bytes, to_peer) : FeedSink(bytes, to_peer, to_sender);
  if (!s.ok()) out.status = Fail(std::move(s));
  return out;
}

absl::Status ScpAuditor::FeedSource(std::string_view bytes, Out* to_sink) {
  if (!backlog_.empty()) {  // still waiting for an answer
    if (backlog_.size() + bytes.size() > kMaxBacklog) {
      return Protocol("the sender keeps sending without waiting for acknowledgements");
    }
    backlog_.append(bytes);
    return absl::OkStatus();
  }
  size_t used = 0;
  absl::Status s = RunSource(bytes, &used);
  if (used > 0) to_sink->push_back(bytes.substr(0, used));
  return s;
}

absl::Status ScpAuditor::FeedSink(std::string_view bytes, Out* to_source, Out* to_sink) {
  if (state_ == SourceState::kDone) {
    to_source->push_back(bytes);
    return absl::OkStatus();
  }
  size_t i = 0;
  while (i < bytes.size()) {
    switch (sink_state_) {
      case SinkState::kIgnore:
        i = bytes.size();
        break;
      case SinkState::kByte: {
        const char c = bytes[i++];
        if (c == '\0') {
          answers_.push_back(Answer::kOk);
        } else if (c == '\1') {
          sink_state_ = SinkState::kErrorLine;
          sink_line_.clear();
        } else {
          answers_.push_back(Answer::kFatal);  // '\2' or garbage: the sender exits
          sink_state_ = SinkState::kIgnore;
        }
        break;
      }
      case SinkState::kErrorLine: {
        const size_t nl = bytes.find('\n', i);
        const size_t end = nl == std::string_view::npos ? bytes.size() : nl;
        if (sink_line_.size() + (end - i) > kMaxLine) return Protocol("error message line too long");
        sink_line_.append(bytes.substr(i, end - i));
        i = end;
        if (nl != std::string_view::npos) {
          ++i;
          answers_.push_back(Answer::kError);
          sink_state_ = SinkState::kByte;
        }
        break;
      }
    }
    if (answers_.size() > kMaxQueuedAnswers) {
      return Protocol("the receiving side sent more answers than there were records");
    }
  }
  to_source->push_back(bytes);
  // Answers may unblock held source bytes.
  released_.clear();
  released_.swap(backlog_);
  size_t used = 0;
  absl::Status s = RunSource(released_, &used);
  if (used > 0) to_sink->push_back(std::string_view(released_).substr(0, used));
  return s;
}

absl::Status ScpAuditor::RunSource(std::string_view in, size_t* used) {
  const size_t total = in.size();
  *used = 0;
  for (;;) {
    while (awaiting_ != Awaiting::kNone && !answers_.empty()) {
      const Answer a = answers_.front();
      answers_.pop_front();
      ApplyAnswer(a);
    }
    if (in.empty() || state_ == SourceState::kDone) break;  // after the end: passed through
    if (awaiting_ != Awaiting::kNone) {
      *used = total - in.size();
      if (backlog_.size() + in.size() > kMaxBacklog) {
        return Protocol("the sender keeps sending without waiting for acknowledgements");
      }
      backlog_.append(in);
      return absl::OkStatus();
    }
    // On an error, the piece that failed (e.g. the rest of a bad record, up
    // to its newline) is not returned, so the receiver never acts on it.
    *used = total - in.size();
    PC_RETURN_IF_ERROR(ConsumeSource(in));
  }
  *used = total;
  return absl::OkStatus();
}

// Consumes some of `in` in the current state (never while awaiting an answer).
absl::Status ScpAuditor::ConsumeSource(std::string_view& in) {
  switch (state_) {
    case SourceState::kLine:
    case SourceState::kStatusLine: {
      const size_t nl = in.find('\n');
      const size_t take = nl == std::string_view::npos ? in.size() : nl;
      if (line_.size() + take > kMaxLine) {
        return Protocol(fmt::format("line longer than {} bytes", kMaxLine));
      }
      line_.append(in.substr(0, take));
      if (nl == std::string_view::npos) {
        in = {};
        return absl::OkStatus();
      }
      in.remove_prefix(nl + 1);
      if (state_ == SourceState::kLine) {
        auto s = OnSourceLine();
        line_.clear();
        return s;
      }
      line_.clear();  // the message after a file's error status
      if (status_line_fatal_) {
        EmitFile("the sender aborted the transfer");
        state_ = SourceState::kDone;
      } else {
        awaiting_ = Awaiting::kFileEnd;
        state_ = SourceState::kLine;
      }
      return absl::OkStatus();
    }
    case SourceState::kData: {
      const uint64_t left = file_->size - file_->received;
      const size_t take = static_cast<size_t>(std::min<uint64_t>(left, in.size()));
      file_->sha.Update(in.substr(0, take));
      file_->received += take;
      in.remove_prefix(take);
      if (file_->received == file_->size) state_ = SourceState::kDataStatus;
      return absl::OkStatus();
    }
    case SourceState::kDataStatus: {
      const char c = in.front();
      in.remove_prefix(1);
      if (c == '\0') {
        awaiting_ = Awaiting::kFileEnd;
        state_ = SourceState::kLine;
      } else {
        file_->source_error = true;
        status_line_fatal_ = c != '\1';
        state_ = SourceState::kStatusLine;
      }
      return absl::OkStatus();
    }
    case SourceState::kDone:
      in = {};
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status ScpAuditor::OnSourceLine() {
  std::string_view l = line_;
  if (l.empty()) return Protocol("empty record");
  if (l.find('\0') != std::string_view::npos) return Protocol("NUL byte in a record");
  switch (l.front()) {
    case '\1':  // a warning; the sender goes on without waiting
      return absl::OkStatus();
    case '\2':  // fatal: the receiver exits
      state_ = SourceState::kDone;
      return absl::OkStatus();
    case 'E':
      if (l.size() != 1) return Protocol("malformed E record");
      if (dirs_.empty()) return Protocol("E record outside a directory");
      dirs_.pop_back();
      awaiting_ = Awaiting::kEnd;
      return absl::OkStatus();
    case 'T': {
      l.remove_prefix(1);
      uint64_t v;
      if (!TakeNumber(&l, 20, UINT64_MAX, &v) || !TakeChar(&l, ' ') || !TakeNumber(&l, 6, 999999, &v) ||
          !TakeChar(&l, ' ') || !TakeNumber(&l, 20, UINT64_MAX, &v) || !TakeChar(&l, ' ') ||
          !TakeNumber(&l, 6, 999999, &v) || !l.empty()) {
        return Protocol("malformed T record");
      }
      awaiting_ = Awaiting::kTimes;
      return absl::OkStatus();
    }
    case 'C':
    case 'D':
      break;
    default:
      return Protocol("expected a C, D, E or T record");
  }
  const bool dir = l.front() == 'D';
  if (l.size() < 6 || !std::all_of(l.begin() + 1, l.begin() + 5, [](char c) { return c >= '0' && c <= '7'; }) ||
      l[5] != ' ') {
    return Protocol("malformed mode in C/D record");
  }
  l.remove_prefix(6);
  uint64_t size;
  if (!TakeNumber(&l, 32, kMaxFileSize, &size) || !TakeChar(&l, ' ')) {
    return Protocol("malformed or out-of-range size in C/D record");
  }
  const std::string_view name = l;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos) {
    return Protocol("unacceptable file name in C/D record");
  }
  if (dir) {
    if (!cmd_.recursive) return Protocol("directory record without -r");
    if (dirs_.size() >= kMaxDepth) return Protocol("directories nested too deep");
    pending_dir_ = PathFor(name);
    awaiting_ = Awaiting::kDir;
    return absl::OkStatus();
  }
  file_ = std::make_unique<File>();
  file_->path = PathFor(name);
  file_->size = size;
  awaiting_ = Awaiting::kFile;
  return absl::OkStatus();
}

void ScpAuditor::ApplyAnswer(Answer a) {
  const Awaiting what = awaiting_;
  awaiting_ = Awaiting::kNone;
  switch (what) {
    case Awaiting::kNone:
    case Awaiting::kStart:
    case Awaiting::kTimes:
    case Awaiting::kEnd:
      break;
    case Awaiting::kFile:
      if (a == Answer::kOk) {
        file_->accepted = true;
        state_ = file_->size > 0 ? SourceState::kData : SourceState::kDataStatus;
      } else {
        file_.reset();  // the sender skips this file
      }
      break;
    case Awaiting::kDir:
      if (a == Answer::kOk) dirs_.push_back(std::move(pending_dir_));
      pending_dir_.clear();
      break;
    case Awaiting::kFileEnd:
      if (file_->source_error) {
        EmitFile("the sender reported a read error");
      } else if (a != Answer::kOk) {
        EmitFile("the receiving side reported an error");
      } else {
        EmitFile({});
      }
      break;
  }
  if (a == Answer::kFatal) state_ = SourceState::kDone;
}

std::string ScpAuditor::PathFor(std::string_view name) {
  if (!dirs_.empty()) return Join(dirs_.back(), name);
  const std::string_view path = StripTrailingSlashes(cmd_.path);
  const size_t slash = path.rfind('/');
  if (cmd_.direction == FileDirection::kDownload) {
    // scp -f names each operand by its last component (trailing '/' removed).
    for (size_t k = next_expanded_; k < cmd_.expanded.size(); ++k) {
      const std::string_view e = StripTrailingSlashes(cmd_.expanded[k]);
      const size_t s = e.rfind('/');
      if ((s == std::string_view::npos ? e : e.substr(s + 1)) == name) {
        next_expanded_ = k + 1;
        return std::string(e);
      }
    }
    return slash == std::string_view::npos ? std::string(name) : Join(path.substr(0, slash + 1), name);
  }
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (!cmd_.target_is_dir && base == name && cmd_.path.back() != '/') return cmd_.path;
  return Join(cmd_.path, name);
}

void ScpAuditor::EmitFile(std::string_view incomplete_reason) {
  if (!file_) return;
  File& f = *file_;
  FileTransferEvent ev;
  ev.path = DisplayPath(f.path);
  ev.raw_path = AuditPath(f.path);
  ev.direction = cmd_.direction;
  ev.size = f.received;
  if (cmd_.path_is_pattern) ev.pattern = AuditPath(cmd_.path);
  std::string hex = f.sha.FinishHex();
  if (incomplete_reason.empty() && f.received == f.size) {
    ev.complete = true;
    ev.sha256_hex = std::move(hex);
    ++files_completed_;
  } else {
    ev.incomplete_reason =
        incomplete_reason.empty() ? std::string("data missing") : std::string(incomplete_reason);
  }
  file_.reset();
  if (on_transfer_) on_transfer_(ev);
}

void ScpAuditor::Finish() {
  if (finished_) return;
  finished_ = true;
  if (file_ && file_->accepted) {
    EmitFile(status_.ok() ? std::string("session ended before the file was transferred and acknowledged")
                          : fmt::format("auditing stopped: {}", status_.message()));
  }
  file_.reset();
}

}  // namespace portcullis::ssh
