// ServerStream against real VNC servers on 127.0.0.1: Xtigervnc (and
// x11vnc over Xvfb) showing real X clients, read over a plain socket after
// our own RFB 3.8 None handshake, one encoding at a time, at 32 and 16 bits
// per pixel, big and little endian. The oracle is the X server's own
// screen as xwd dumps it: equal pixels for every lossless encoding at 32
// bpp, a quantization step at 16 bpp, a small mean error for JPEG.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agentless/vnc/rfb/server_stream.h"
#include "tests/agentless/vnc/rfb_builder.h"
#include "tests/support/server_process.h"
#include "tests/support/test_util.h"

namespace portcullis::agentless::rfb {
namespace {

namespace pt = portcullis::testing;

constexpr int kWidth = 640, kHeight = 480;

bool Exists(const char* path) { return ::access(path, X_OK) == 0; }

// A 24-bit TrueColor XWD image (what xwud shows): a smooth gradient with a
// noisy band, so that servers pick their photo paths (JPEG, gradient, raw).
std::string MakeXwd(int w, int h) {
  std::string s;
  auto u32 = [&s](uint32_t v) { s += rfb::testing::U32(v); };
  const std::string name = "portcullis\0";
  const uint32_t fields[25] = {static_cast<uint32_t>(100 + name.size()), 7, 2, 24, static_cast<uint32_t>(w),
                               static_cast<uint32_t>(h), 0, 1, 32, 1, 32, 32, static_cast<uint32_t>(w * 4), 4,
                               0xff0000, 0xff00, 0xff, 8, 256, 0, static_cast<uint32_t>(w),
                               static_cast<uint32_t>(h), 0, 0, 0};
  for (uint32_t f : fields) u32(f);
  s += name;
  s.push_back('\0');
  uint32_t noise = 12345;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint32_t r = x * 255 / w, g = y * 255 / h, b = (x + y) * 255 / (w + h);
      if (y > h / 2 && y < h / 2 + 40) {
        noise = noise * 1103515245u + 12345u;
        r = (r + (noise >> 24)) & 0xff;
      }
      u32((r << 16) | (g << 8) | b);
    }
  }
  return s;
}

// A display number with no X server on it.
int FreeDisplay() {
  for (int n = 40; n < 99; ++n) {
    const std::string lock = "/tmp/.X" + std::to_string(n) + "-lock";
    const std::string sock = "/tmp/.X11-unix/X" + std::to_string(n);
    if (::access(lock.c_str(), F_OK) != 0 && ::access(sock.c_str(), F_OK) != 0) return n;
  }
  return -1;
}

// A VNC server with a few X clients drawn on it; stopped by PID.
class LiveServer {
 public:
  enum class Kind { kTigerVnc, kX11vncOverXvfb };
  explicit LiveServer(Kind kind) : kind_(kind), dir_("pc-rfb-live") {}
  ~LiveServer() {
    for (pid_t& p : clients_) pt::StopServer(p);
    pt::StopServer(vnc_);
    pt::StopServer(x_);
  }

  absl::Status Start() {
    display_ = FreeDisplay();
    port_ = pt::PickFreePort();
    if (display_ < 0 || port_ == 0) return absl::UnavailableError("no free display or port");
    const std::string disp = ":" + std::to_string(display_);
    const std::string geometry = std::to_string(kWidth) + "x" + std::to_string(kHeight);
    auto log = [this](const std::string& f) {
      return [this, f] {
        auto t = pt::ReadWholeFile(dir_.Join(f));
        return t.ok() ? *t : std::string();
      };
    };
    if (kind_ == Kind::kTigerVnc) {
      auto pid = pt::SpawnServer({"/usr/bin/Xtigervnc", disp, "-rfbport", std::to_string(port_), "-interface",
                                  "127.0.0.1", "-SecurityTypes", "None", "-geometry", geometry, "-depth", "24",
                                  "-AlwaysShared", "-nolisten", "tcp"},
                                 dir_.Join("x.log"));
      if (!pid.ok()) return pid.status();
      x_ = *pid;
      if (absl::Status s = pt::WaitServerReady(x_, "Xtigervnc", [this] { return pt::PortAccepts(port_); },
                                               log("x.log"), std::chrono::seconds(20), nullptr);
          !s.ok()) {
        return s;
      }
    } else {
      auto pid = pt::SpawnServer({"/usr/bin/Xvfb", disp, "-screen", "0", geometry + "x24", "-nolisten", "tcp"},
                                 dir_.Join("x.log"));
      if (!pid.ok()) return pid.status();
      x_ = *pid;
      const std::string sock = "/tmp/.X11-unix/X" + std::to_string(display_);
      if (absl::Status s = pt::WaitServerReady(x_, "Xvfb", [sock] { return ::access(sock.c_str(), F_OK) == 0; },
                                               log("x.log"), std::chrono::seconds(20), nullptr);
          !s.ok()) {
        return s;
      }
    }
    // Something to look at: a photo-like image, the X logo, eyes.
    if (absl::Status s = pt::WriteWholeFile(dir_.Join("image.xwd"), MakeXwd(320, 240)); !s.ok()) return s;
    const std::vector<std::vector<std::string>> clients = {
        {"/usr/bin/xwud", "-display", disp, "-in", dir_.Join("image.xwd"), "-geometry", "+0+0"},
        {"/usr/bin/xlogo", "-display", disp, "-geometry", "200x150+400+20", "-bg", "orange", "-fg", "navy"},
        {"/usr/bin/xeyes", "-display", disp, "-geometry", "180x120+420+300", "-fg", "darkgreen"},
    };
    for (size_t i = 0; i < clients.size(); ++i) {
      auto pid = pt::SpawnServer(clients[i], dir_.Join("client" + std::to_string(i) + ".log"));
      if (!pid.ok()) return pid.status();
      clients_.push_back(*pid);
    }
    if (kind_ == Kind::kX11vncOverXvfb) {
      auto pid = pt::SpawnServer({"/usr/bin/x11vnc", "-display", disp, "-rfbport", std::to_string(port_),
                                  "-localhost", "-forever", "-shared", "-nopw", "-noxdamage", "-norc", "-quiet"},
                                 dir_.Join("vnc.log"));
      if (!pid.ok()) return pid.status();
      vnc_ = *pid;
      if (absl::Status s = pt::WaitServerReady(vnc_, "x11vnc", [this] { return pt::PortAccepts(port_); },
                                               log("vnc.log"), std::chrono::seconds(30), nullptr);
          !s.ok()) {
        return s;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // let the clients map and paint
    return absl::OkStatus();
  }
  int port() const { return port_; }
  std::string display() const { return ":" + std::to_string(display_); }

 private:
  Kind kind_;
  pt::TempDir dir_;
  int display_ = -1, port_ = 0;
  pid_t x_ = -1, vnc_ = -1;
  std::vector<pid_t> clients_;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool ReadExactly(int fd, void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) return false;
    const ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
bool WriteAll(int fd, const std::string& s) { return ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()); }

struct Counter : ServerEvents {
  void UpdateEnd() override { ++updates; }
  int updates = 0;
};

// Our side: handshake, SetPixelFormat, SetEncodings, one full update into
// a ServerStream. Returns the framebuffer as 0xFFRRGGBB pixels.
std::vector<uint32_t> Ours(int port, const PixelFormat& pf, const std::vector<int32_t>& encodings, std::string* why,
                           size_t* wire_bytes) {
  Fd c;
  c.fd = pt::ConnectLoopback(port);
  if (c.fd < 0) return *why = "connect", std::vector<uint32_t>{};
  char version[12];
  if (!ReadExactly(c.fd, version, 12) || std::string(version, 4) != "RFB ") return *why = "version", std::vector<uint32_t>{};
  WriteAll(c.fd, "RFB 003.008\n");
  uint8_t n = 0;
  if (!ReadExactly(c.fd, &n, 1) || n == 0) return *why = "security types", std::vector<uint32_t>{};
  std::string types(n, '\0');
  ReadExactly(c.fd, types.data(), n);
  if (types.find('\x01') == std::string::npos) return *why = "no None security", std::vector<uint32_t>{};
  WriteAll(c.fd, std::string(1, '\x01'));
  uint32_t result = 1;
  if (!ReadExactly(c.fd, &result, 4) || result != 0) return *why = "security result", std::vector<uint32_t>{};
  WriteAll(c.fd, std::string(1, '\x01'));  // shared
  uint8_t init[24];
  if (!ReadExactly(c.fd, init, 24)) return *why = "ServerInit", std::vector<uint32_t>{};
  const int w = (init[0] << 8) | init[1], h = (init[2] << 8) | init[3];
  auto server_pf = ParsePixelFormat(std::string_view(reinterpret_cast<char*>(init + 4), 16));
  if (!server_pf.ok()) return *why = "server pixel format", std::vector<uint32_t>{};
  const uint32_t name_len = (uint32_t{init[20]} << 24) | (init[21] << 16) | (init[22] << 8) | init[23];
  std::string name(name_len, '\0');
  ReadExactly(c.fd, name.data(), name_len);

  ServerStream stream(*server_pf, w, h);
  std::string msg = rfb::testing::B({0, 0, 0, 0}) + SerializePixelFormat(pf);
  stream.SetPixelFormat(pf);
  msg += rfb::testing::B({2, 0}) + rfb::testing::U16(static_cast<uint16_t>(encodings.size()));
  for (int32_t e : encodings) msg += rfb::testing::U32(static_cast<uint32_t>(e));
  stream.SetEncodings(encodings);
  msg += rfb::testing::B({3, 0}) + rfb::testing::U16(0) + rfb::testing::U16(0) +
         rfb::testing::U16(static_cast<uint16_t>(w)) + rfb::testing::U16(static_cast<uint16_t>(h));
  WriteAll(c.fd, msg);
  Counter ev;
  std::vector<char> buf(65536);
  *wire_bytes = 0;
  while (ev.updates == 0) {
    pollfd pfd{c.fd, POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) return *why = "no update", std::vector<uint32_t>{};
    const ssize_t r = ::read(c.fd, buf.data(), buf.size());
    if (r <= 0) return *why = "server closed", std::vector<uint32_t>{};
    *wire_bytes += static_cast<size_t>(r);
    absl::Status st = stream.Feed(std::string_view(buf.data(), static_cast<size_t>(r)), ev);
    if (!st.ok()) return *why = std::string(st.message()), std::vector<uint32_t>{};
  }
  std::vector<uint32_t> out(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) std::memcpy(&out[static_cast<size_t>(y) * w], stream.framebuffer() + y * stream.stride(), w * 4);
  return out;
}

// The oracle: the X server's own screen, dumped by xwd (as 0xFFRRGGBB).
std::vector<uint32_t> Truth(const std::string& display, std::string* why) {
  pt::CommandResult r = pt::RunCommand({"xwd", "-root", "-silent", "-display", display}, "", std::chrono::seconds(20));
  if (r.exit_code != 0 || r.out.size() < 100) {
    *why = "xwd failed: " + r.err;
    return {};
  }
  const auto* p = reinterpret_cast<const uint8_t*>(r.out.data());
  auto field = [p](int i) {
    return (uint32_t{p[4 * i]} << 24) | (uint32_t{p[4 * i + 1]} << 16) | (uint32_t{p[4 * i + 2]} << 8) | p[4 * i + 3];
  };
  const uint32_t header = field(0), w = field(4), h = field(5), byte_order = field(7), bpp = field(11),
                 bpl = field(12), ncolours = field(19);
  const size_t at = header + 12 * size_t{ncolours};
  if (bpp != 32 || w != kWidth || h != kHeight || r.out.size() < at + size_t{bpl} * h) {
    *why = "unexpected xwd image";
    return {};
  }
  std::vector<uint32_t> out(size_t{w} * h);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      const uint8_t* q = p + at + size_t{y} * bpl + 4 * x;
      const uint32_t v = byte_order == 0 ? (uint32_t{q[3]} << 24) | (q[2] << 16) | (q[1] << 8) | q[0]
                                         : (uint32_t{q[0]} << 24) | (q[1] << 16) | (q[2] << 8) | q[3];
      out[size_t{y} * w + x] = 0xff000000u | (v & 0xffffffu);
    }
  }
  return out;
}

struct Diff {
  size_t differing = 0;
  size_t far = 0;  // pixels with a colour off by more than 48
  double mean_abs = 0;
  int max_abs = 0;
};
Diff Compare(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  Diff d;
  if (a.size() != b.size()) {
    d.differing = SIZE_MAX;
    return d;
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) ++d.differing;
    int worst = 0;
    for (int sh = 0; sh < 24; sh += 8) {
      const int x = std::abs(static_cast<int>((a[i] >> sh) & 0xff) - static_cast<int>((b[i] >> sh) & 0xff));
      sum += x;
      worst = std::max(worst, x);
    }
    d.max_abs = std::max(d.max_abs, worst);
    if (worst > 48) ++d.far;
  }
  d.mean_abs = static_cast<double>(sum) / (3.0 * a.size());
  return d;
}

struct Case {
  const char* name;
  std::vector<int32_t> encodings;
  bool lossy;
};

// Cursor is asked for too, so that the server sends the pointer's shape
// apart instead of drawing it into the pixels (xwd's dump has no pointer).
const Case kCases[] = {
    {"raw", {encoding::kRaw, encoding::kCursor}, false},
    {"hextile", {encoding::kHextile, encoding::kCursor}, false},
    {"zrle", {encoding::kZrle, encoding::kCursor}, false},
    {"tight", {encoding::kTight, encoding::kCompressLevel0 + 6, encoding::kCursor}, false},
    {"tight-jpeg", {encoding::kTight, encoding::kCompressLevel0 + 6, encoding::kTightQuality0 + 5, encoding::kCursor},
     true},
};

size_t CountColours(const std::vector<uint32_t>& px) {
  std::vector<uint32_t> s = px;
  std::sort(s.begin(), s.end());
  return static_cast<size_t>(std::unique(s.begin(), s.end()) - s.begin());
}

void RunAgainst(LiveServer::Kind kind) {
  for (const char* tool : {"/usr/bin/Xtigervnc", "/usr/bin/Xvfb", "/usr/bin/x11vnc", "/usr/bin/xwud", "/usr/bin/xwd",
                           "/usr/bin/xlogo", "/usr/bin/xeyes"}) {
    ASSERT_TRUE(Exists(tool)) << tool << " is missing: install the packages of .ci/deps.sh";
  }
  LiveServer server(kind);
  absl::Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started;
  std::string why;
  // The screen must be static: two dumps a moment apart agree.
  std::vector<uint32_t> truth = Truth(server.display(), &why);
  ASSERT_FALSE(truth.empty()) << why;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::vector<uint32_t> again = Truth(server.display(), &why);
    if (again == truth) break;
    truth = again;
  }
  ASSERT_GT(CountColours(truth), 1000u) << "the screen shows too little to test with";
  for (const PixelFormat& pf : {rfb::testing::Bgrx32(), rfb::testing::Rgb565(), rfb::testing::Rgb565(true)}) {
    std::vector<uint32_t> reference;  // this format's Raw decode
    size_t raw_wire = 0;
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(c.name) + " at " + std::to_string(pf.bits_per_pixel) + " bpp" +
                   (pf.big_endian ? " big-endian" : ""));
      size_t wire = 0;
      std::vector<uint32_t> ours = Ours(server.port(), pf, c.encodings, &why, &wire);
      ASSERT_FALSE(ours.empty()) << why;
      const Diff d = Compare(ours, truth);
      std::printf("%-10s %2d bpp%s: %7zu wire bytes, %6zu colours, %6zu pixels differ from the screen (mean %.3f, max %d, %zu far)\n",
                  c.name, pf.bits_per_pixel, pf.big_endian ? " BE" : "   ", wire, CountColours(ours), d.differing,
                  d.mean_abs, d.max_abs, d.far);
      if (reference.empty()) {
        reference = ours;
        raw_wire = wire;
      } else {
        // The server used the encoding asked for (not a fallback to Raw).
        EXPECT_LT(wire, raw_wire / 2);
      }
      if (!c.lossy && pf.bits_per_pixel == 32) {
        EXPECT_EQ(d.differing, 0u);
      } else if (!c.lossy) {
        // 5/6 bits a colour: within a quantization step of the screen, and
        // exactly what Raw gave in the same format.
        EXPECT_LE(d.max_abs, 8);
        EXPECT_EQ(Compare(ours, reference).differing, 0u);
      } else {
        // JPEG: small errors on the whole; large ones only in the noisy band
        // and at sharp edges (about 1.6 % of the pixels at quality 5).
        EXPECT_GT(d.differing, 0u) << "lossless: the server did not use JPEG";
        EXPECT_LT(d.mean_abs, 3.0);
        EXPECT_LT(d.far, truth.size() / 25);
      }
    }
  }
}

TEST(RfbLiveTest, TigerVncEveryEncodingMatchesTheScreen) { RunAgainst(LiveServer::Kind::kTigerVnc); }

TEST(RfbLiveTest, X11vncEveryEncodingMatchesTheScreen) { RunAgainst(LiveServer::Kind::kX11vncOverXvfb); }

}  // namespace
}  // namespace portcullis::agentless::rfb
