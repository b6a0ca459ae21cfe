// Structure-aware fuzzing of the SFTP auditor: the input is a program of
// SFTP requests and answers, and this harness builds the well-framed
// packets for it (lengths, ids of requests in flight, handles the target
// returned), so the fuzzer explores the auditor's state (open files,
// requests in flight, out-of-order reads and writes, refusals) instead of
// the framing that fuzz_sftp_parser covers. Each packet is fed in one or
// two chunks. Properties: as fuzz_sftp_parser (whole packets out, nothing
// from the target goes back to it, complete transfers have a hash), and
// every transfer event names a path that was opened.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agentless/ssh/file_transfer_event.h"
#include "agentless/ssh/sftp_parser.h"

namespace {

namespace sftp = portcullis::ssh::sftp;
using portcullis::ssh::SftpAuditor;

// Reads the program; past its end every read returns zeros.
class Program {
 public:
  explicit Program(std::string_view in) : in_(in) {}
  bool done() const { return in_.empty(); }
  uint8_t U8() {
    if (in_.empty()) return 0;
    const auto v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  uint32_t U32() { return (uint32_t{U8()} << 24) | (uint32_t{U8()} << 16) | (uint32_t{U8()} << 8) | U8(); }
  // Up to `max` raw bytes, the count taken from the program.
  std::string_view Bytes(size_t max) {
    const size_t n = std::min<size_t>({U8() % (max + 1), in_.size()});
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }

 private:
  std::string_view in_;
};

void PutU32(std::string* s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>(v >> shift));
}
void PutU64(std::string* s, uint64_t v) {
  PutU32(s, static_cast<uint32_t>(v >> 32));
  PutU32(s, static_cast<uint32_t>(v));
}
void PutString(std::string* s, std::string_view v) {
  PutU32(s, static_cast<uint32_t>(v.size()));
  s->append(v);
}
std::string Packet(uint8_t type, const std::string& body) {
  std::string p;
  PutU32(&p, static_cast<uint32_t>(body.size() + 1));
  p.push_back(static_cast<char>(type));
  return p + body;
}

const char* const kPaths[] = {"/d/a", "/d/b", "/d", "", "/d/a/../b"};
const char* const kExtensions[] = {"posix-rename@openssh.com", "hardlink@openssh.com", "copy-data",
                                   "lsetstat@openssh.com", "fsync@openssh.com", "statvfs@openssh.com"};
const uint8_t kPathOps[] = {sftp::kRemove, sftp::kMkdir, sftp::kRmdir, sftp::kSetstat, sftp::kRename,
                            sftp::kSymlink, sftp::kStat, sftp::kOpendir, sftp::kRealpath};

struct Session {
  Program prog;
  SftpAuditor auditor;
  std::set<std::string> opened;    // paths of OPEN requests, as events show them
  std::vector<uint32_t> ids;       // ids of requests sent
  std::vector<std::string> handles{"h0"};  // handles the target returned (and one it did not)
  uint32_t next_id = 1;
  bool ok = true;

  explicit Session(std::string_view in, SftpAuditor::Callbacks cb) : prog(in), auditor(std::move(cb)) {}

  std::string Path() {
    const uint8_t c = prog.U8();
    if (c < 200) return kPaths[c % std::size(kPaths)];
    return std::string(prog.Bytes(24));
  }
  const std::string& Handle() { return handles[prog.U8() % handles.size()]; }
  // An id in flight most of the time, else a fresh or arbitrary one.
  uint32_t AnswerId() {
    const uint8_t c = prog.U8();
    if (c < 224 && !ids.empty()) return ids[c % ids.size()];
    return c & 1 ? next_id : prog.U32();
  }
  uint32_t NewId() {
    const uint32_t id = prog.U8() < 248 ? next_id++ : prog.U32();
    ids.push_back(id);
    return id;
  }
  uint64_t Offset() {
    const uint8_t c = prog.U8();
    return c < 128 ? uint64_t{c} * 16 : (uint64_t{prog.U32()} << 8);
  }

  // Feeds one packet from one side, in one or two chunks.
  void Send(bool from_client, const std::string& packet) {
    const size_t cut = prog.U8() % (packet.size() + 1);
    for (std::string_view chunk : {std::string_view(packet).substr(0, cut), std::string_view(packet).substr(cut)}) {
      if (!ok || chunk.empty()) continue;
      auto out = from_client ? auditor.FeedClientToServer(chunk) : auditor.FeedServerToClient(chunk);
      for (std::string_view p : from_client ? out.to_server : out.to_client) {
        if (p.size() < 5) __builtin_trap();
        const uint32_t len = (uint32_t{static_cast<uint8_t>(p[0])} << 24) |
                             (uint32_t{static_cast<uint8_t>(p[1])} << 16) |
                             (uint32_t{static_cast<uint8_t>(p[2])} << 8) | static_cast<uint8_t>(p[3]);
        if (p.size() != 4 + size_t{len}) __builtin_trap();
      }
      if (!from_client && !out.to_server.empty()) __builtin_trap();
      ok = out.ok();
    }
  }

  void Step() {
    std::string b;
    const uint8_t op = prog.U8();
    switch (op % 12) {
      case 0: {  // OPEN
        const std::string path = Path();
        opened.insert(portcullis::ssh::DisplayPath(path));
        PutU32(&b, NewId());
        PutString(&b, path);
        PutU32(&b, prog.U8() & 0x3f);  // pflags
        PutU32(&b, 0);                 // attrs: no flags
        Send(true, Packet(sftp::kOpen, b));
        break;
      }
      case 1:  // WRITE
        PutU32(&b, NewId());
        PutString(&b, Handle());
        PutU64(&b, Offset());
        PutString(&b, prog.Bytes(64));
        Send(true, Packet(sftp::kWrite, b));
        break;
      case 2:  // READ
        PutU32(&b, NewId());
        PutString(&b, Handle());
        PutU64(&b, Offset());
        PutU32(&b, prog.U8());
        Send(true, Packet(sftp::kRead, b));
        break;
      case 3:  // CLOSE
        PutU32(&b, NewId());
        PutString(&b, Handle());
        Send(true, Packet(sftp::kClose, b));
        break;
      case 4: {  // a request on paths
        const uint8_t type = kPathOps[prog.U8() % std::size(kPathOps)];
        PutU32(&b, NewId());
        PutString(&b, Path());
        if (type == sftp::kRename || type == sftp::kSymlink) PutString(&b, Path());
        if (type == sftp::kMkdir || type == sftp::kSetstat) PutU32(&b, 0);
        Send(true, Packet(type, b));
        break;
      }
      case 5: {  // EXTENDED
        const char* name = kExtensions[prog.U8() % std::size(kExtensions)];
        PutU32(&b, NewId());
        PutString(&b, name);
        if (std::string_view(name) == "copy-data") {
          PutString(&b, Handle());
          PutU64(&b, Offset());
          PutU64(&b, prog.U8());
          PutString(&b, Handle());
          PutU64(&b, Offset());
        } else if (std::string_view(name) == "fsync@openssh.com") {
          PutString(&b, Handle());
        } else {
          PutString(&b, Path());
          PutString(&b, Path());
        }
        Send(true, Packet(sftp::kExtended, b));
        break;
      }
      case 6: {  // HANDLE answer
        std::string handle = "h" + std::to_string(prog.U8() % 8);
        handles.push_back(handle);
        PutU32(&b, AnswerId());
        PutString(&b, handle);
        Send(false, Packet(sftp::kHandle, b));
        break;
      }
      case 7:  // STATUS answer
        PutU32(&b, AnswerId());
        PutU32(&b, prog.U8() % 6);
        PutString(&b, "msg");
        PutString(&b, "");
        Send(false, Packet(sftp::kStatus, b));
        break;
      case 8:  // DATA answer
        PutU32(&b, AnswerId());
        PutString(&b, prog.Bytes(64));
        Send(false, Packet(sftp::kData, b));
        break;
      case 9:  // NAME or ATTRS answer
        PutU32(&b, AnswerId());
        if (prog.U8() & 1) {
          PutU32(&b, 0);
          Send(false, Packet(sftp::kAttrs, b));
        } else {
          PutU32(&b, 1);
          PutString(&b, "a");
          PutString(&b, "-rw-r--r-- a");
          PutU32(&b, 0);
          Send(false, Packet(sftp::kName, b));
        }
        break;
      default: {  // any packet body, framed, from either side
        const bool from_client = op & 0x80;
        std::string body(prog.Bytes(48));
        if (body.empty()) body.push_back(static_cast<char>(op));
        std::string p;
        PutU32(&p, static_cast<uint32_t>(body.size()));
        Send(from_client, p + body);
        break;
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::set<std::string>* opened = nullptr;
  SftpAuditor::Callbacks cb{
      [&opened](const portcullis::ssh::FileTransferEvent& e) {
        if (e.complete != e.incomplete_reason.empty()) __builtin_trap();
        if (e.complete && e.sha256_hex.size() != 64) __builtin_trap();
        if (opened != nullptr && opened->count(e.path) == 0) __builtin_trap();
      },
      [](const portcullis::ssh::FileOpEvent&) {},
      [](const portcullis::ssh::SftpRequest& r) { return r.path != "/d/b"; }};
  Session s(in, std::move(cb));
  opened = &s.opened;
  std::string init;
  PutU32(&init, 3);
  s.Send(true, Packet(sftp::kInit, init));
  s.Send(false, Packet(sftp::kVersion, init));
  for (int i = 0; i < 256 && s.ok && !s.prog.done(); ++i) s.Step();
  s.auditor.Finish();
  return 0;
}
