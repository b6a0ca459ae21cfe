#pragma once
// Test helper: an initialised data directory in a temp dir (via the real
// `portcullisd init` code path) and an open Broker on a FakeClock.

#include <sstream>
#include <string>

#include "auth/identity/totp.h"
#include "broker/common/clock.h"
#include "broker/common/files.h"
#include "broker/config/config.h"
#include "broker/core/broker.h"
#include "broker/core/user_admin.h"
#include "broker/daemon/init_command.h"
#include "tests/support/test_util.h"

namespace portcullis::testing {

inline constexpr char kAdminPassword[] = "correct horse battery";

class BrokerEnv {
 public:
  explicit BrokerEnv(std::string extra_config = "") : clock_(1795424400) {
    config_path_ = dir_.path() + "/portcullis.yaml";
    std::string cfg = "listen:\n  grpc: 127.0.0.1:1\nauth:\n  argon2_memory_kib: 8192\n"
                      "  argon2_iterations: 1\n" + extra_config;
    if (!WriteFileAtomic(config_path_, cfg, 0600).ok()) return;
    std::ostringstream out;
    auto pw = SecretBytes::FromString(kAdminPassword);
    init_status_ = daemon::RunInit({config_path_, "alice"}, *pw, &clock_, out);
    init_output_ = out.str();
    if (!init_status_.ok()) return;
    auto cfg_parsed = config::LoadConfig(config_path_);
    if (!cfg_parsed.ok()) {
      init_status_ = cfg_parsed.status();
      return;
    }
    auto b = core::Broker::Open(*cfg_parsed, &clock_);
    if (!b.ok()) {
      init_status_ = b.status();
      return;
    }
    broker_ = std::move(*b);
  }

  bool ok() const { return init_status_.ok() && broker_ != nullptr; }
  const absl::Status& init_status() const { return init_status_; }
  const std::string& init_output() const { return init_output_; }
  core::Broker& broker() { return *broker_; }
  FakeClock& clock() { return clock_; }
  const std::string& config_path() const { return config_path_; }

  // The user's TOTP code at the fake clock's now (+ `steps` * 30 s).
  std::string CodeFor(const std::string& user, int steps = 0) {
    auto rec = broker_->users().Get(user);
    if (!rec.ok()) return "";
    auto seed = broker_->secret_box().Open(rec->totp_seed_sealed, core::Authenticator::SeedAad(user));
    if (!seed.ok()) return "";
    auto code = auth::TotpCodeAt(*seed, clock_.Now() + std::chrono::seconds(30 * steps));
    return code.ok() ? *code : "";
  }

 private:
  TempDir dir_;
  FakeClock clock_;
  std::string config_path_;
  absl::Status init_status_;
  std::string init_output_;
  std::unique_ptr<core::Broker> broker_;
};

}  // namespace portcullis::testing
