// Which `portcullis recordings` arguments name a file (verified locally)
// and which a recording ID (asked of the broker), for any format.
#include "broker/cli/recording_view.h"

#include <gtest/gtest.h>

namespace portcullis::cli {
namespace {

TEST(RecordingViewTest, FilesAndIds) {
  for (const char* file : {"case-17.cast", "a1b2c3d4e5f6.0.cast", "x.manifest.json",
                           "x.manifest.sig", "a1b2.0.seal", "rec.tfr", "./a1b2.0", "dir/a1b2.0"}) {
    EXPECT_TRUE(LooksLikeFile(file)) << file;
  }
  for (const char* id : {"a1b2c3d4e5f6.0", "a1b2c3d4e5f6.12", "a1b2c3d4e5f6"}) {
    EXPECT_FALSE(LooksLikeFile(id)) << id;
  }
}

}  // namespace
}  // namespace portcullis::cli
