// bench_login: a flood of parallel unauthenticated Login calls (default
// 400, BENCH_FLOOD) against a real portcullisd with the default Argon2id
// cost (19 MiB per verification) and the default auth.max_concurrent_logins.
// Prints the broker's RSS idle (the same-run baseline), at its peak during
// the flood and after it, with the ratios to idle; how the calls ended; and
// how long a legitimate login made during the flood took (retrying while
// told busy). `make bench`; never a timed unit test.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "portcullis/v1/auth.grpc.pb.h"
#include "tests/integration/api_client.h"
#include "tests/integration/broker_fixture.h"

using namespace portcullis::testing;
using SteadyClock = std::chrono::steady_clock;
namespace v1 = portcullis::v1;

namespace {

constexpr char kBobPassword[] = "bob-bench-pw-42-long";

grpc::Status Login(const std::shared_ptr<grpc::Channel>& channel, const std::string& user,
                   const std::string& password, const std::string& code) {
  auto stub = v1::AuthService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  v1::LoginRequest req;
  req.set_user(user);
  req.set_password(password);
  req.set_totp_code(code);
  v1::LoginResponse resp;
  return stub->Login(&ctx, req, &resp);
}

}  // namespace

int main() {
  const char* env = std::getenv("BENCH_FLOOD");
  const int flood = env && *env ? std::max(1, std::atoi(env)) : 400;
  BrokerOptions opts;
  opts.argon2_memory_kib = 19456;  // the product default
  opts.lockout_failures = 1000;
  BrokerFixture broker(opts);
  if (auto st = broker.Init(); !st.ok()) {
    std::fprintf(stderr, "bench_login: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  if (auto st = broker.Start(); !st.ok()) {
    std::fprintf(stderr, "bench_login: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  if (broker.LoginAdmin().exit_code != 0) return 1;
  auto secret = broker.AddUser("bob", kBobPassword, {});
  if (!secret.ok()) return 1;
  auto channel = ApiChannel(broker);
  (void)Login(channel, "nobody", "x", "1");  // connect; one verification
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const pid_t pid = broker.pid();
  const long idle = ProcStatusKib(pid);

  std::atomic<bool> sampling{true};
  std::atomic<long> peak{idle};
  std::thread sampler([&] {
    while (sampling) {
      long now = ProcStatusKib(pid);
      if (now > peak) peak = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::atomic<int> unauthenticated{0}, busy{0}, other{0};
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < flood; ++i) {
    threads.emplace_back([&, i] {
      grpc::Status st = Login(channel, "flood" + std::to_string(i % 50),
                              "not-the-password-" + std::to_string(i), "123456");
      if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED) ++unauthenticated;
      else if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++busy;
      else ++other;
    });
  }
  // A legitimate login during the flood, retried while refused as busy.
  const auto legit_start = SteadyClock::now();
  grpc::Status legit;
  int tries = 0;
  do {
    ++tries;
    legit = Login(channel, "bob", kBobPassword, TotpCode(*secret, 0));
    if (legit.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (SteadyClock::now() - legit_start < std::chrono::seconds(300));
  const double legit_s = std::chrono::duration<double>(SteadyClock::now() - legit_start).count();
  for (auto& t : threads) t.join();
  const double flood_s = std::chrono::duration<double>(SteadyClock::now() - start).count();
  sampling = false;
  sampler.join();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long after = ProcStatusKib(pid);
  const long hwm = ProcStatusKib(pid, "VmHWM");

  const auto mib = [](long kib) { return static_cast<double>(kib) / 1024.0; };
  std::printf("login flood: %d parallel unauthenticated Login calls, Argon2id 19 MiB, %u CPUs\n",
              flood, std::thread::hardware_concurrency());
  std::printf("  broker RSS (MiB): idle %.1f; peak during flood %.1f (x%.2f of idle; VmHWM %.1f); "
              "after flood %.1f (x%.2f of idle)\n",
              mib(idle), mib(peak), static_cast<double>(peak) / idle, mib(hwm), mib(after),
              static_cast<double>(after) / idle);
  std::printf("  calls: %d refused unauthenticated, %d refused busy, %d other; flood took %.1f s\n",
              unauthenticated.load(), busy.load(), other.load(), flood_s);
  std::printf("  legitimate login during the flood: %s after %d tries, %.1f s\n",
              legit.ok() ? "ok" : legit.error_message().c_str(), tries, legit_s);
  return broker.Stop().ok() ? 0 : 1;
}
