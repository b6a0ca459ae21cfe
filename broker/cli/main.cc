// portcullis: the CLI for admins, users and reviewers. Talks gRPC (TLS) to
// portcullisd. See `portcullis --help`.
#include <CLI/CLI.hpp>

#include "broker/cli/commands.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  return rc;
}
