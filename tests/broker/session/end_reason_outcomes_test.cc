// The event catalogue lists the end reasons as the outcomes of
// session.ending and tunnel.close; they must be exactly EndReasonName()'s.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "broker/audit/event_catalogue.h"
#include "broker/session/live_session.h"

namespace portcullis::session {
namespace {

TEST(EndReasonOutcomesTest, CatalogueListsEveryEndReason) {
  std::set<std::string> names;
  for (EndReason r : {EndReason::kClientClosed, EndReason::kTargetClosed, EndReason::kKilled,
                      EndReason::kUserDisabled, EndReason::kMaxSession, EndReason::kShutdown,
                      EndReason::kRecordingFailed, EndReason::kError}) {
    names.insert(std::string(EndReasonName(r)));
  }
  const audit::EventSpec* ending = audit::FindEventSpec("session.ending");
  ASSERT_NE(ending, nullptr);
  EXPECT_EQ(std::set<std::string>(ending->outcomes.begin(), ending->outcomes.end()), names);
  const audit::EventSpec* close = audit::FindEventSpec("tunnel.close");
  ASSERT_NE(close, nullptr);
  names.insert("success");
  EXPECT_EQ(std::set<std::string>(close->outcomes.begin(), close->outcomes.end()), names);
}

}  // namespace
}  // namespace portcullis::session
