// portcullis: the CLI for admins, users and reviewers. Talks gRPC (TLS) to
// portcullisd. See `portcullis --help`.
#include <CLI/CLI.hpp>

#include "broker/cli/commands.h"

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer (make test-asan), for this short-lived process only:
// OpenSSL 3 keeps each thread's error queue (ERR_STATE, 904 bytes) in
// thread-local storage; gRPC's detached event-engine threads can still be
// running when the CLI exits, OpenSSL's atexit cleanup then drops the key,
// and LeakSanitizer reports their queues as lost (grpc/grpc#38539). The
// fast unwinder cannot see past libcrypto, so this matches every
// OpenSSL-internal allocation of the CLI process; the OpenSSL code the CLI
// runs is also tested in-process (recorder, CA, identity tests) without it.
extern "C" const char* __lsan_default_suppressions() { return "leak:CRYPTO_zalloc\n"; }
// A suppressed leak must not change what the CLI prints: without this,
// LeakSanitizer appends its "Suppressions used" table to stderr whenever
// the race above happened, and output the tests compare exactly differs.
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
#endif

int main(int argc, char** argv) {
  using namespace portcullis::cli;
  CLI::App app{"portcullis - Portcullis privileged access broker CLI"};
  app.set_version_flag("--version", "portcullis 0.1.0");
  app.require_subcommand(1);
  CliContext ctx;
  int rc = kExitError;
  RegisterAuthCommands(app, ctx, &rc);
  RegisterUserCommands(app, ctx, &rc);
  RegisterRoleCommands(app, ctx, &rc);
  RegisterTargetCommands(app, ctx, &rc);
  RegisterPolicyCommands(app, ctx, &rc);
  RegisterAuditCommands(app, ctx, &rc);
  RegisterCaCommands(app, ctx, &rc);
  RegisterSessionCommands(app, ctx, &rc);
  RegisterKeyCommands(app, ctx, &rc);
  RegisterRecordingCommands(app, ctx, &rc);
  RegisterAccessCommands(app, ctx, &rc);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  return rc;
}
