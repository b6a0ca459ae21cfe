#pragma once
// XvncFixture: a real TigerVNC server (Xtigervnc, tigervnc-standalone-
// server), or x11vnc serving an Xvfb display, on 127.0.0.1 for tests: its own temp dir, display number and
// RFB port, VncAuth with a password file written by `tigervncpasswd -f`,
// or no authentication. X clients (xlogo, xev, ...) are started on its
// display with StartClient(). Everything is stopped by PID.
//
// ViewerClient: a small viewer on libvncclient (the test's own harness):
// connects with a VNC password (a ticket, through the broker), sends
// SetPixelFormat/SetEncodings and a full update request (rfbInitClient),
// and reads until a whole update arrived; then the framebuffer can be
// hashed and input sent.
// Not thread-safe. Test-only code.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/test_util.h"

struct _rfbClient;

namespace portcullis::testing {

struct XvncOptions {
  std::string password;  // "" = -SecurityTypes None
  // false: Xtigervnc; true: Xvfb with x11vnc serving it (a second RFB
  // implementation).
  bool x11vnc = false;
  std::string geometry = "640x480";
  int depth = 24;
  std::vector<std::string> extra_args;  // appended to Xtigervnc's command line
};

class XvncFixture {
 public:
  explicit XvncFixture(XvncOptions options = {});
  ~XvncFixture();
  XvncFixture(const XvncFixture&) = delete;
  XvncFixture& operator=(const XvncFixture&) = delete;

  static bool Available();
  static bool X11vncAvailable();
  // Starts Xtigervnc and waits until its RFB port accepts (10 s).
  [[nodiscard]] absl::Status Start();
  void Stop();
  // An X client on the display, its output into a log file; stopped with
  // the fixture.
  [[nodiscard]] absl::StatusOr<pid_t> StartClient(const std::vector<std::string>& argv,
                                                  const std::string& log_name);
  std::string ClientLog(const std::string& log_name) const;

  int port() const { return port_; }
  int display() const { return display_; }
  std::string log() const;

 private:
  absl::Status StartX11vnc();
  XvncOptions options_;
  TempDir dir_;
  int port_ = 0, display_ = 0;
  pid_t pid_ = -1;
  pid_t vnc_pid_ = -1;  // x11vnc
  std::vector<pid_t> clients_;
};

class ViewerClient {
 public:
  // `bits_per_pixel`: 32 (8 bits per colour) or 16 (5-6-5... as libvncclient sets it).
  explicit ViewerClient(int bits_per_pixel = 32);
  ~ViewerClient();
  ViewerClient(const ViewerClient&) = delete;
  ViewerClient& operator=(const ViewerClient&) = delete;

  // `encodings` as libvncclient spells them ("raw", "copyrect hextile raw",
  // "zrle", "tight", ...). Connects and waits for the first full update.
  [[nodiscard]] absl::Status Connect(int port, const std::string& password,
                                     const std::string& encodings,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Stops echoing libvncclient's log to stderr (benchmarks); last_error()
  // still has it.
  static void QuietLogs(bool quiet);
  // Why the last Connect failed, as libvncclient logged it (e.g. the
  // broker's SecurityResult reason).
  std::string last_error() const;
  // Requests a full update and reads until it arrived.
  [[nodiscard]] absl::Status Refresh(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Requests a non-incremental update of one rectangle and reads until an
  // update has arrived.
  [[nodiscard]] absl::Status Update(int x, int y, int w, int h,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads whatever arrives for `d`. False if the connection broke.
  bool Pump(std::chrono::milliseconds d);
  // SHA-256 (hex) of the framebuffer (32 bits: R, G, B with the 4th byte zeroed).
  std::string Hash() const;
  // The framebuffer as B, G, R, unused pixels (the recorder's layout; 32 bits only).
  std::string Bgrx() const;
  // When Connect() saw its first whole FramebufferUpdate.
  std::chrono::steady_clock::time_point first_frame() const { return first_frame_; }
  // FramebufferUpdates received so far.
  long updates() const;
  int width() const;
  int height() const;
  bool SendKey(uint32_t keysym, bool down);
  bool SendPointer(int x, int y, int mask);
  bool SendCutText(const std::string& text);
  // The text of the last ServerCutText received ("" if none).
  std::string received_cut_text() const;
  // True until the server closed the connection.
  bool connected() const { return connected_; }

 private:
  // Handles at most one server message (waits up to 10 ms for one).
  bool PumpOnce();
  int bpp_ = 32;
  std::chrono::steady_clock::time_point first_frame_{};
  _rfbClient* client_ = nullptr;
  bool connected_ = false;
  std::string last_error_;
};

// The broker's side of a refused handshake, as a 3.8 viewer reads it: a
// raw client that sends VncAuth with `ticket` and reads the SecurityResult
// and its reason (libvncclient does not hand the reason to its caller).
struct RawResult {
  uint32_t result = 99;
  std::string reason;
  bool closed_early = false;
};
RawResult RawHandshake(int port, const std::string& ticket);

// Reads exactly `n` bytes from `fd` (false on EOF or error).
bool ReadN(int fd, void* buf, size_t n);

}  // namespace portcullis::testing
