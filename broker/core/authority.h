#pragma once
// The Authority interface lives with the protocol-neutral seams
// (broker/session/authority.h); the broker's implementation is
// LocalAuthority (local_authority.h).

#include "broker/session/authority.h"

namespace portcullis::core {
using session::Authority;
}  // namespace portcullis::core
