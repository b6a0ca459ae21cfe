#pragma once
// Registration of the `portcullis` subcommands. Each Register* adds its
// subcommands to `app`; a command's callback stores its exit code in `*rc`.
// `ctx` and `rc` must outlive app.parse().

#include <CLI/CLI.hpp>

#include "broker/cli/cli_context.h"
#include "portcullis/v1/common.pb.h"

namespace portcullis::cli {

// "ssh" -> PROTOCOL_SSH ...; PROTOCOL_UNSPECIFIED for anything else.
v1::Protocol ProtocolFromText(const std::string& text);
const char* ProtocolText(v1::Protocol p);

void RegisterAuthCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterUserCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterRoleCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterTargetCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterPolicyCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterAuditCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterCaCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterSessionCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterKeyCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterRecordingCommands(CLI::App& app, CliContext& ctx, int* rc);
void RegisterAccessCommands(CLI::App& app, CliContext& ctx, int* rc);

}  // namespace portcullis::cli
