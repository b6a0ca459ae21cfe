#include "agentless/ssh/ssh_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agentless/ssh/ssh_connection.h"
#include "agentless/ssh/ssh_settings.h"
#include "broker/common/absl_fmt.h"

namespace portcullis::ssh {
namespace {

std::string PeerAddress(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
  }
  return "unknown";
}

}  // namespace

SshListener::SshListener(core::Broker* broker, SshAuthServices auth,
                         session::RecorderFactory* recorders)
    : broker_(broker), auth_(std::move(auth)), recorders_(recorders) {}

SshListener::~SshListener() { Stop(); }

absl::Status SshListener::Start() {
  EnsureLibsshInitialised();
  const auto& cfg = broker_->config();
  if (!cfg.ssh.enabled()) return absl::FailedPreconditionError("the SSH listener is disabled");
  bind_.reset(ssh_bind_new());
  if (!bind_) return absl::InternalError("ssh: out of memory");
  ssh_key key = nullptr;
  SecretBytes pem = broker_->ssh_host_key().OpenSshPrivateKey("portcullis-host");
  std::string text(pem.Reveal());
  int rc = ssh_pki_import_privkey_base64(text.c_str(), nullptr, nullptr, nullptr, &key);
  OPENSSL_cleanse(text.data(), text.size());
  if (rc != SSH_OK) return absl::InternalError("ssh: cannot load the host key");
  const AlgorithmSet algs = ListenerAlgorithms();
  const std::string port = std::to_string(cfg.ssh.port);
  const int no = 0;
  bool ok = ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_IMPORT_KEY, key) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_BINDADDR, cfg.ssh.host.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_BINDPORT_STR, port.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_KEY_EXCHANGE, algs.kex.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_CIPHERS_C_S,
                                 algs.ciphers.c_str()) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_CIPHERS_S_C,
                                 algs.ciphers.c_str()) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_HMAC_C_S, algs.macs.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_HMAC_S_C, algs.macs.c_str()) ==
                SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
                                 algs.host_keys.c_str()) == SSH_OK &&
            ssh_bind_options_set(bind_.get(), SSH_BIND_OPTIONS_BANNER, "Portcullis") == SSH_OK;
  if (!ok) {
    return absl::InternalError(
        fmt::format("ssh: cannot configure the listener: {}", ssh_get_error(bind_.get())));
  }
  if (ssh_bind_listen(bind_.get()) != SSH_OK) {
    return absl::UnavailableError(fmt::format("ssh: cannot listen on {}: {}", cfg.ssh.ToString(),
                                              ssh_get_error(bind_.get())));
  }
  // libssh listens with a backlog of 10, so a burst of connections (a
  // scan, users reconnecting after a restart) gets SYNs dropped and waits
  // for TCP retransmits (1 s, 3 s, ...). Listening again raises it.
  if (listen(ssh_bind_get_fd(bind_.get()), SOMAXCONN) != 0)
    spdlog::warn("ssh: cannot raise the listen backlog: {}", strerror(errno));
  port_ = cfg.ssh.port;
  if (pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    return absl::InternalError("ssh: cannot create a pipe");
  acceptor_ = std::thread([this] { AcceptLoop(); });
  reaper_ = std::thread([this] { ReaperLoop(); });
  spdlog::info("ssh: listening on {}", cfg.ssh.ToString());
  return absl::OkStatus();
}

void SshListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (stop_pipe_[1] >= 0) (void)!write(stop_pipe_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  if (reaper_.joinable()) reaper_.join();
  broker_->sessions().EndAll(session::EndReason::kShutdown,
                             "portcullis: the broker is shutting down; closing.");
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (auto& [conn, deadline] : pending_) conn->AbortFromOtherThread();
    // Sessions that registered after EndAll, or are still connecting to
    // their target (a target that never answers must not hold the
    // shutdown up).
    for (SshConnection* conn : conns_) {
      conn->RequestEnd(session::EndReason::kShutdown,
                       "portcullis: the broker is shutting down; closing.");
      conn->AbortConnect();
    }
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return live_ == 0; });
  }
  for (int& fd : stop_pipe_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void SshListener::AcceptLoop() {
  const int lfd = ssh_bind_get_fd(bind_.get());
  const auto& cfg = broker_->config();
  for (;;) {
    pollfd fds[2] = {{lfd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("ssh: poll failed: {}", strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        spdlog::warn("ssh: out of file descriptors; pausing accepts");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    // A relay forwards each packet as it arrives: no Nagle delay (keystroke
    // echo) and no delayed-ACK stalls on bulk transfers.
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string source = PeerAddress(ss);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (live_ >= cfg.ssh_max_sessions || unauthenticated_ >= cfg.ssh_max_unauthenticated) {
        spdlog::warn("ssh: refusing {}: too many connections ({} live, {} unauthenticated)",
                     source, live_, unauthenticated_);
        close(fd);
        continue;
      }
      ++live_;
      ++unauthenticated_;
    }
    std::thread([this, fd, source]() mutable { Serve(fd, std::move(source)); }).detach();
  }
}

void SshListener::Serve(int fd, std::string source) {
  SshSessionPtr s(ssh_new());
  bool counted_unauth = true;
  bool accepted = false;
  if (s) {
    // Reads the bind's options and keys; serialised to be safe.
    std::lock_guard<std::mutex> lock(accept_mu_);
    accepted = ssh_bind_accept_fd(bind_.get(), s.get(), fd) == SSH_OK;
  }
  if (accepted) {
    auto conn = std::make_unique<SshConnection>(broker_, std::move(s), source, auth_, recorders_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_[conn.get()] = broker_->clock()->Now() + broker_->config().ssh_auth_timeout;
      conns_.insert(conn.get());
      if (stopping_) conn->AbortConnect();
    }
    // The reaper drops the connection from pending_ as soon as it has
    // authenticated (it checks authenticated() under mu_).
    conn->SetAuthenticatedHook([this, c = conn.get(), &counted_unauth] {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.erase(c);
      --unauthenticated_;
      counted_unauth = false;
    });
    conn->Run();
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.erase(conn.get());
      conns_.erase(conn.get());
    }
    conn.reset();
  } else {
    close(fd);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (counted_unauth) --unauthenticated_;
  --live_;
  cv_.notify_all();
}

void SshListener::ReaperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    const TimePoint now = broker_->clock()->Now();
    for (auto& [conn, deadline] : pending_) {
      if (now >= deadline) conn->AbortFromOtherThread();
    }
  }
}

}  // namespace portcullis::ssh
