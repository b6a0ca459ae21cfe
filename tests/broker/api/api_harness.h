#pragma once
// Test helper: the real portcullis.v1 services over an in-process gRPC
// channel (no port, no TLS) on a BrokerEnv (initialised data dir, FakeClock),
// plus a LiveSession double for the session registry. Test-only code.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/api/services.h"
#include "broker/core/user_admin.h"
#include "broker/session/live_session.h"
#include "tests/broker/core/broker_test_env.h"

namespace portcullis::testing {

inline constexpr char kUserPassword[] = "user-password-long-enough";

class ApiHarness {
 public:
  explicit ApiHarness(std::string extra_config = "") : env_(std::move(extra_config)) {
    if (!env_.ok()) return;
    core::Broker& b = env_.broker();
    services_.push_back(std::make_unique<api::AuthServiceImpl>(b));
    services_.push_back(std::make_unique<api::UserServiceImpl>(b));
    services_.push_back(std::make_unique<api::SessionServiceImpl>(b));
    services_.push_back(std::make_unique<api::KeyServiceImpl>(b));
    services_.push_back(std::make_unique<api::RecordingServiceImpl>(b));
    services_.push_back(std::make_unique<api::CaServiceImpl>(b));
    services_.push_back(std::make_unique<api::RoleServiceImpl>(b));
    services_.push_back(std::make_unique<api::TargetServiceImpl>(b));
    services_.push_back(std::make_unique<api::AccessServiceImpl>(b));
    grpc::ServerBuilder builder;
    for (auto& s : services_) builder.RegisterService(s.get());
    // Also on loopback TCP (no TLS), for RPCs that need the caller's
    // address (tickets are bound to it).
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &tcp_port_);
    server_ = builder.BuildAndStart();
    if (server_) channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    if (server_ && tcp_port_ > 0)
      tcp_channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(tcp_port_),
                                         grpc::InsecureChannelCredentials());
  }
  ~ApiHarness() {
    if (server_) server_->Shutdown();
  }

  bool ok() const { return env_.ok() && channel_ != nullptr; }
  BrokerEnv& env() { return env_; }
  core::Broker& broker() { return env_.broker(); }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  // The same services over 127.0.0.1 TCP (peer "ipv4:127.0.0.1:PORT").
  std::shared_ptr<grpc::Channel> tcp_channel() { return tcp_channel_; }

  // Creates a user with kUserPassword.
  void AddUser(const std::string& name, const std::vector<std::string>& roles = {}) {
    auto pw = SecretBytes::FromString(kUserPassword);
    auto u = core::CreateUser(broker(), name, *pw, roles, core::Actor{"alice", "test"});
    ASSERT_TRUE(u.ok()) << u.status();
  }
  // A bearer token for `user` (no password needed: minted directly).
  std::string Token(const std::string& user) {
    auto rec = broker().users().Get(user);
    EXPECT_TRUE(rec.ok()) << rec.status();
    if (!rec.ok()) return "";
    auto t = broker().tokens().Issue(core::IdentityOf(*rec));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::string(t->token.Reveal()) : "";
  }
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }
  // Audit rows whose type starts with `type`.
  std::vector<audit::AuditRow> Audit(const std::string& type) {
    audit::AuditFilter f;
    f.type_prefix = type;
    auto rows = broker().audit().List(f);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<audit::AuditRow>{};
  }

 private:
  BrokerEnv env_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<grpc::Channel> tcp_channel_;
  int tcp_port_ = 0;
};

// Records what the registry asks of it.
class FakeSession final : public session::LiveSession {
 public:
  FakeSession(uint64_t up, uint64_t down) : up_(up), down_(down) {}
  void RequestEnd(session::EndReason reason, std::string notice) override {
    std::lock_guard<std::mutex> lock(mu_);
    ends_.emplace_back(reason, std::move(notice));
  }
  void Notify(std::string line) override {
    std::lock_guard<std::mutex> lock(mu_);
    notices_.push_back(std::move(line));
  }
  uint64_t BytesUp() const override { return up_; }
  uint64_t BytesDown() const override { return down_; }
  std::vector<std::pair<session::EndReason, std::string>> ends() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ends_;
  }

 private:
  const uint64_t up_, down_;
  mutable std::mutex mu_;
  std::vector<std::pair<session::EndReason, std::string>> ends_;
  std::vector<std::string> notices_;
};

}  // namespace portcullis::testing
