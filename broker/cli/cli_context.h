#pragma once
// State shared by the `portcullis` CLI commands: where the login lives
// (~/.config/portcullis/, or $PORTCULLIS_HOME), the gRPC channel to the
// broker, and uniform error reporting. Single-threaded.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace portcullis::cli {

// Exit codes of the CLI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitDenied = 3;  // policy check DENY, audit verify broken, recording INVALID
inline constexpr int kExitTruncated = 4;  // recordings verify: TRUNCATED (a sealed prefix)

// "512B", "1.5K", "3.2M" ... (binary units), for tables.
std::string HumanSize(uint64_t n);

struct SavedLogin {
  std::string broker;  // HOST:PORT
  std::string user;
  std::string token;
  int64_t expires_at = 0;
};

class CliContext {
 public:
  // $PORTCULLIS_HOME or ~/.config/portcullis.
  static std::string HomeDir();
  std::string LoginPath() const { return HomeDir() + "/login.json"; }
  std::string CaPath() const { return HomeDir() + "/ca.pem"; }
  // The broker's recording public key (PEM), saved at login for
  // `recordings verify FILE`.
  static std::string RecordingKeyPath() { return HomeDir() + "/recording-key.pem"; }

  // Saves the login (0600, directory 0700) and the broker's CA certificate.
  [[nodiscard]] absl::Status SaveLogin(const SavedLogin& login, const std::string& ca_pem);
  [[nodiscard]] absl::StatusOr<SavedLogin> LoadLogin() const;
  void ForgetLogin() const;

  // A TLS channel to `broker` trusting only `ca_pem`.
  static std::shared_ptr<grpc::Channel> Channel(const std::string& broker,
                                                const std::string& ca_pem);
  // A channel for the saved login; fails with a hint to log in.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::Channel>> LoggedInChannel();
  // A client context with the bearer token and a 30 s deadline.
  std::unique_ptr<grpc::ClientContext> CallContext();

  // A stub of `Service` on the saved login's channel, or null after printing
  // why (and setting *rc).
  template <typename Service>
  std::unique_ptr<typename Service::Stub> Stub(int* rc) {
    auto ch = LoggedInChannel();
    if (!ch.ok()) {
      *rc = Fail(ch.status());
      return nullptr;
    }
    return Service::NewStub(*ch);
  }
  // Runs one RPC `fn(ClientContext*) -> grpc::Status` with a fresh context;
  // on failure prints the error, sets *rc and returns false.
  template <typename Fn>
  bool Rpc(Fn&& fn, int* rc) {
    auto call = CallContext();
    grpc::Status st = fn(call.get());
    if (!st.ok()) {
      *rc = Fail(st);
      return false;
    }
    return true;
  }

  // Prints "portcullis: <message>" to stderr and returns kExitError.
  static int Fail(const grpc::Status& st);
  static int Fail(const absl::Status& st);

 private:
  std::optional<SavedLogin> login_;
};

}  // namespace portcullis::cli
