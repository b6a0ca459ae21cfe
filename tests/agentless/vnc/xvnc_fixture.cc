#include "tests/agentless/vnc/xvnc_fixture.h"

#include <rfb/rfbclient.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <openssl/sha.h>

#include "tests/support/server_process.h"

// libvncclient's VncAuth response (not in its public header).
extern "C" void rfbClientEncryptBytes(unsigned char* bytes, char* passwd);

namespace portcullis::testing {
namespace {

constexpr char kXvnc[] = "/usr/bin/Xtigervnc";

bool DisplayFree(int n) {
  struct stat st;
  return stat(fmt::format("/tmp/.X{}-lock", n).c_str(), &st) != 0 &&
         stat(fmt::format("/tmp/.X11-unix/X{}", n).c_str(), &st) != 0;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int g_tag;

// libvncclient logs through two global function pointers; what it logged
// during a Connect() is kept for last_error() (the broker's refusal
// reasons arrive as "VNC connection failed: ..." log lines).
std::mutex g_log_mu;
std::string g_log;
std::atomic<bool> g_quiet{false};

void CaptureLog(const char* format, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(line, sizeof line, format, ap);
  va_end(ap);
  if (!g_quiet.load()) std::fputs(line, stderr);
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (g_log.size() < 65536) g_log += line;
}

struct ClientState {
  std::string password;
  std::string encodings;
  bool frame_done = false;
  long frames = 0;
  std::string cut_text;  // the last ServerCutText
};

ClientState* StateOf(rfbClient* c) {
  return static_cast<ClientState*>(rfbClientGetClientData(c, &g_tag));
}

char* GetPassword(rfbClient* c) { return strdup(StateOf(c)->password.c_str()); }
void GotCutText(rfbClient* c, const char* text, int len) {
  if (auto* st = StateOf(c); st != nullptr && text != nullptr && len >= 0)
    st->cut_text.assign(text, static_cast<size_t>(len));
}

void Finished(rfbClient* c) {
  StateOf(c)->frame_done = true;
  ++StateOf(c)->frames;
}

}  // namespace

XvncFixture::XvncFixture(XvncOptions options) : options_(std::move(options)), dir_("pc-xvnc") {}

XvncFixture::~XvncFixture() { Stop(); }

bool XvncFixture::Available() {
  return access(kXvnc, X_OK) == 0 && access("/usr/bin/tigervncpasswd", X_OK) == 0;
}

bool XvncFixture::X11vncAvailable() {
  return access("/usr/bin/x11vnc", X_OK) == 0 && access("/usr/bin/Xvfb", X_OK) == 0 &&
         access("/usr/bin/tigervncpasswd", X_OK) == 0;
}

std::string XvncFixture::log() const { return Slurp(dir_.Join("xvnc.log")); }

absl::Status XvncFixture::Start() {
  std::vector<std::string> sec = {"-SecurityTypes", "None"};
  if (!options_.password.empty()) {
    auto r = RunCommand({"tigervncpasswd", "-f"}, options_.password + "\n");
    if (r.exit_code != 0 || r.out.empty())
      return absl::InternalError("tigervncpasswd -f failed: " + r.err);
    std::ofstream(dir_.Join("passwd"), std::ios::binary) << r.out;
    chmod(dir_.Join("passwd").c_str(), 0600);
    sec = {"-SecurityTypes", "VncAuth", "-rfbauth", dir_.Join("passwd")};
  }
  if (options_.x11vnc) return StartX11vnc();
  absl::Status last = absl::InternalError("no free X display");
  for (int attempt = 0, n = 40 + static_cast<int>(getpid() % 50); attempt < 8; ++attempt, ++n) {
    if (!DisplayFree(n)) continue;
    display_ = n;
    port_ = PickFreePort();
    std::vector<std::string> argv = {kXvnc, fmt::format(":{}", n), "-rfbport",
                                     std::to_string(port_), "-interface", "127.0.0.1",
                                     "-geometry", options_.geometry, "-depth",
                                     std::to_string(options_.depth), "-AlwaysShared",
                                     "-nolisten", "tcp"};
    argv.insert(argv.end(), sec.begin(), sec.end());
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    auto pid = SpawnServer(argv, dir_.Join("xvnc.log"));
    if (!pid.ok()) return pid.status();
    pid_ = *pid;
    bool exited = false;
    last = WaitServerReady(
        pid_, "Xtigervnc", [&] { return PortAccepts(port_); }, [&] { return log(); },
        std::chrono::seconds(10), &exited);
    if (last.ok()) return last;
    if (!exited) return last;
  }
  return last;
}

absl::Status XvncFixture::StartX11vnc() {
  if (options_.password.empty()) return absl::InvalidArgumentError("x11vnc: a password is needed");
  absl::Status last = absl::InternalError("no free X display");
  for (int attempt = 0, n = 140 + static_cast<int>(getpid() % 50); attempt < 8; ++attempt, ++n) {
    if (!DisplayFree(n)) continue;
    display_ = n;
    auto pid = SpawnServer({"/usr/bin/Xvfb", fmt::format(":{}", n), "-screen", "0",
                            options_.geometry + "x" + std::to_string(options_.depth), "-nolisten",
                            "tcp"},
                           dir_.Join("xvfb.log"));
    if (!pid.ok()) return pid.status();
    pid_ = *pid;
    bool exited = false;
    struct stat st;
    last = WaitServerReady(
        pid_, "Xvfb",
        [&] { return stat(fmt::format("/tmp/.X11-unix/X{}", n).c_str(), &st) == 0; },
        [&] { return Slurp(dir_.Join("xvfb.log")); }, std::chrono::seconds(10), &exited);
    if (!last.ok()) {
      if (!exited) return last;
      continue;
    }
    port_ = PickFreePort();
    auto vnc = SpawnServer({"/usr/bin/x11vnc", "-display", fmt::format(":{}", n), "-rfbport",
                            std::to_string(port_), "-localhost", "-rfbauth", dir_.Join("passwd"),
                            "-forever", "-shared", "-noxdamage", "-nopw", "-quiet"},
                           dir_.Join("xvnc.log"));
    if (!vnc.ok()) return vnc.status();
    vnc_pid_ = *vnc;
    return WaitServerReady(
        vnc_pid_, "x11vnc", [&] { return PortAccepts(port_); }, [&] { return log(); },
        std::chrono::seconds(15), &exited);
  }
  return last;
}

void XvncFixture::Stop() {
  for (pid_t& p : clients_) StopServer(p);
  clients_.clear();
  StopServer(vnc_pid_);
  StopServer(pid_);
}

absl::StatusOr<pid_t> XvncFixture::StartClient(const std::vector<std::string>& argv,
                                               const std::string& log_name) {
  std::vector<std::string> a = argv;
  a.insert(a.begin() + 1, {"-display", fmt::format(":{}", display_)});
  auto pid = SpawnServer(a, dir_.Join(log_name));
  if (pid.ok()) clients_.push_back(*pid);
  return pid;
}

std::string XvncFixture::ClientLog(const std::string& log_name) const {
  return Slurp(dir_.Join(log_name));
}

ViewerClient::ViewerClient(int bits_per_pixel) : bpp_(bits_per_pixel) {}

ViewerClient::~ViewerClient() {
  if (client_ != nullptr) {
    delete StateOf(client_);
    free(client_->frameBuffer);
    client_->frameBuffer = nullptr;
    rfbClientCleanup(client_);
  }
}

absl::Status ViewerClient::Connect(int port, const std::string& password,
                                   const std::string& encodings, std::chrono::milliseconds timeout) {
  rfbClientLog = CaptureLog;
  rfbClientErr = CaptureLog;
  {
    std::lock_guard<std::mutex> lock(g_log_mu);
    g_log.clear();
  }
  last_error_.clear();
  rfbClient* c = bpp_ == 16 ? rfbGetClient(5, 3, 2) : rfbGetClient(8, 3, 4);
  if (c == nullptr) return absl::InternalError("rfbGetClient");
  auto* state = new ClientState{password, encodings, false, 0, {}};
  rfbClientSetClientData(c, &g_tag, state);
  free(c->serverHost);
  c->serverHost = strdup("127.0.0.1");
  c->serverPort = port;
  c->GetPassword = GetPassword;
  c->FinishedFrameBufferUpdate = Finished;
  c->GotXCutText = GotCutText;
  c->appData.encodingsString = state->encodings.c_str();
  c->appData.shareDesktop = TRUE;
  c->canHandleNewFBSize = TRUE;
  // VncAuth or None only: the harness has no TLS credentials, and a direct
  // view of a VeNCrypt server (Xtigervnc also lists X509Vnc as its own
  // type) must take the clear VncAuth it offers beside it.
  const uint32_t schemes[] = {rfbVncAuth, rfbNoAuth};
  SetClientAuthSchemes(c, schemes, 2);
  if (!rfbInitClient(c, nullptr, nullptr)) {
    // rfbInitClient cleaned the client up.
    delete state;
    {
      std::lock_guard<std::mutex> lock(g_log_mu);
      last_error_ = g_log;
    }
    return absl::UnavailableError("rfbInitClient failed: " + last_error_);
  }
  client_ = c;
  connected_ = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!state->frame_done) {
    if (std::chrono::steady_clock::now() > deadline)
      return absl::DeadlineExceededError("no full update");
    if (!PumpOnce()) return absl::UnavailableError("connection lost");
  }
  first_frame_ = std::chrono::steady_clock::now();
  // A server may answer SetEncodings with a pseudo-encoding-only update
  // (a desktop size) before the pixels: take what follows too.
  if (!Pump(std::chrono::milliseconds(150))) return absl::UnavailableError("connection lost");
  return absl::OkStatus();
}

void ViewerClient::QuietLogs(bool quiet) { g_quiet = quiet; }

std::string ViewerClient::last_error() const { return last_error_; }

absl::Status ViewerClient::Refresh(std::chrono::milliseconds timeout) {
  if (client_ == nullptr) return absl::FailedPreconditionError("not connected");
  return Update(0, 0, client_->width, client_->height, timeout);
}

absl::Status ViewerClient::Update(int x, int y, int w, int h, std::chrono::milliseconds timeout) {
  if (client_ == nullptr) return absl::FailedPreconditionError("not connected");
  StateOf(client_)->frame_done = false;
  if (!SendFramebufferUpdateRequest(client_, x, y, w, h, FALSE))
    return absl::UnavailableError("send failed");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!StateOf(client_)->frame_done) {
    if (std::chrono::steady_clock::now() > deadline)
      return absl::DeadlineExceededError("no full update");
    if (!PumpOnce()) return absl::UnavailableError("connection lost");
  }
  return absl::OkStatus();
}

bool ViewerClient::PumpOnce() {
  if (client_ == nullptr || !connected_) return false;
  const int n = client_->buffered > 0 ? 1 : WaitForMessage(client_, 10000);
  if (n < 0) return connected_ = false;
  if (n > 0 && !HandleRFBServerMessage(client_)) return connected_ = false;
  return true;
}

bool ViewerClient::Pump(std::chrono::milliseconds d) {
  if (client_ == nullptr || !connected_) return false;
  const auto deadline = std::chrono::steady_clock::now() + d;
  do {
    const int n = WaitForMessage(client_, 10000);
    if (n < 0) return connected_ = false;
    if (n > 0 || client_->buffered > 0) {
      if (!HandleRFBServerMessage(client_)) return connected_ = false;
    }
  } while (std::chrono::steady_clock::now() < deadline);
  return true;
}

long ViewerClient::updates() const { return client_ ? StateOf(client_)->frames : 0; }

int ViewerClient::width() const { return client_ ? client_->width : 0; }
int ViewerClient::height() const { return client_ ? client_->height : 0; }

std::string ViewerClient::Hash() const {
  if (client_ == nullptr || client_->frameBuffer == nullptr) return "";
  const size_t bytes = static_cast<size_t>(client_->format.bitsPerPixel / 8);
  std::string fb(reinterpret_cast<const char*>(client_->frameBuffer),
                 static_cast<size_t>(client_->width) * client_->height * bytes);
  if (bytes == 4)
    for (size_t i = 3; i < fb.size(); i += 4) fb[i] = 0;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(fb.data()), fb.size(), md);
  std::string hex;
  for (unsigned char b : md) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string ViewerClient::Bgrx() const {
  if (client_ == nullptr || client_->frameBuffer == nullptr) return "";
  const size_t n = static_cast<size_t>(client_->width) * client_->height;
  std::string out(n * 4, '\0');
  const uint8_t* fb = client_->frameBuffer;
  for (size_t i = 0; i < n; ++i) {
    // rfbGetClient(8, 3, 4): red at shift 0, green 8, blue 16, little endian.
    out[i * 4 + 0] = static_cast<char>(fb[i * 4 + 2]);
    out[i * 4 + 1] = static_cast<char>(fb[i * 4 + 1]);
    out[i * 4 + 2] = static_cast<char>(fb[i * 4 + 0]);
  }
  return out;
}

bool ViewerClient::SendKey(uint32_t keysym, bool down) {
  return client_ != nullptr && SendKeyEvent(client_, keysym, down ? TRUE : FALSE);
}
bool ViewerClient::SendPointer(int x, int y, int mask) {
  return client_ != nullptr && SendPointerEvent(client_, x, y, mask);
}
std::string ViewerClient::received_cut_text() const {
  return client_ != nullptr ? StateOf(client_)->cut_text : "";
}

bool ViewerClient::SendCutText(const std::string& text) {
  return client_ != nullptr &&
         SendClientCutText(client_, const_cast<char*>(text.data()), static_cast<int>(text.size()));
}

bool ReadN(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

RawResult RawHandshake(int port, const std::string& ticket) {
  RawResult out;
  int fd = ConnectLoopback(port);
  if (fd < 0) return out;
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char ver[12], types[2];
  std::array<uint8_t, 16> ch{};
  if (!ReadN(fd, ver, 12) || write(fd, "RFB 003.008\n", 12) != 12 || !ReadN(fd, types, 2) ||
      write(fd, "\x02", 1) != 1 || !ReadN(fd, ch.data(), 16)) {
    out.closed_early = true;
    close(fd);
    return out;
  }
  char pw[9] = {};
  strncpy(pw, ticket.c_str(), 8);
  rfbClientEncryptBytes(ch.data(), pw);
  uint8_t res[4];
  if (write(fd, ch.data(), 16) != 16 || !ReadN(fd, res, 4)) {
    out.closed_early = true;
    close(fd);
    return out;
  }
  out.result = (uint32_t{res[0]} << 24) | (uint32_t{res[1]} << 16) | (uint32_t{res[2]} << 8) | res[3];
  uint8_t len[4];
  if (out.result != 0 && ReadN(fd, len, 4)) {
    const uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) |
                       (uint32_t{len[2]} << 8) | len[3];
    if (n < 4096) {
      out.reason.resize(n);
      if (!ReadN(fd, out.reason.data(), n)) out.reason.clear();
    }
  }
  close(fd);
  return out;
}

}  // namespace portcullis::testing
