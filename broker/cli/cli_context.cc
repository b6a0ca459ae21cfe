#include "broker/cli/cli_context.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include <openssl/crypto.h>

#include "broker/common/files.h"

namespace portcullis::cli {

std::string HumanSize(uint64_t n) {
  constexpr const char* kUnits[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  if (unit == 0) return std::to_string(n) + "B";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[unit]);
  return buf;
}

std::string CliContext::HomeDir() {
  if (const char* h = std::getenv("PORTCULLIS_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/portcullis";
  const char* home = std::getenv("HOME");
  if (!home || !*home) {
    if (passwd* pw = getpwuid(getuid())) home = pw->pw_dir;
  }
  return std::string(home ? home : ".") + "/.config/portcullis";
}

absl::Status CliContext::SaveLogin(const SavedLogin& login, const std::string& ca_pem) {
  if (auto st = MakeDirs(HomeDir(), 0700); !st.ok()) return st;
  nlohmann::json j = {{"broker", login.broker},
                      {"user", login.user},
                      {"token", login.token},
                      {"expires_at", login.expires_at}};
  if (auto st = WriteFileAtomic(CaPath(), ca_pem, 0600); !st.ok()) return st;
  std::string text = j.dump(2) + "\n";
  auto st = WriteFileAtomic(LoginPath(), text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  login_ = login;
  return st;
}

absl::StatusOr<SavedLogin> CliContext::LoadLogin() const {
  auto text = ReadFileBounded(LoginPath(), 64 * 1024);
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        "not logged in: run `portcullis login --broker HOST:PORT --ca CA.pem --user NAME`");
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  OPENSSL_cleanse(text->data(), text->size());
  if (j.is_discarded() || !j.is_object() || !j.contains("broker") || !j.contains("token")) {
    return absl::FailedPreconditionError(LoginPath() + " is damaged: run `portcullis login` again");
  }
  SavedLogin l;
  l.broker = j.value("broker", "");
  l.user = j.value("user", "");
  l.token = j.value("token", "");
  l.expires_at = j.value("expires_at", int64_t{0});
  return l;
}

void CliContext::ForgetLogin() const { ::unlink(LoginPath().c_str()); }

std::shared_ptr<grpc::Channel> CliContext::Channel(const std::string& broker,
                                                   const std::string& ca_pem) {
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = ca_pem;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(broker, grpc::SslCredentials(opts), args);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CliContext::LoggedInChannel() {
  auto login = LoadLogin();
  if (!login.ok()) return login.status();
  auto ca = ReadFileBounded(CaPath(), 64 * 1024);
  if (!ca.ok()) {
    return absl::FailedPreconditionError("broker CA missing: run `portcullis login` again");
  }
  login_ = *login;
  return Channel(login->broker, *ca);
}

std::unique_ptr<grpc::ClientContext> CliContext::CallContext() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (login_) ctx->AddMetadata("authorization", "Bearer " + login_->token);
  return ctx;
}

int CliContext::Fail(const grpc::Status& st) {
  std::string msg = st.error_message();
  if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
    msg = "cannot reach the broker (" + msg + ")";
  } else if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    msg = "the broker did not answer in time";
  }
  std::cerr << "portcullis: " << msg << "\n";
  return kExitError;
}

int CliContext::Fail(const absl::Status& st) {
  std::cerr << "portcullis: " << st.message() << "\n";
  return kExitError;
}

}  // namespace portcullis::cli
