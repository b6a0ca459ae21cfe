#include "recorder/file_io.h"

#include <sys/stat.h>

#include <string>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace portcullis::recorder {
namespace {

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

TEST(FileIoTest, MakeDirsDurablyCreatesEveryMissingLevel) {
  testing::TempDir dir("pc-fileio");
  const std::string day = dir.Join("recordings/2026/11/22");
  ASSERT_TRUE(MakeDirsDurably(day).ok());
  for (const char* level : {"recordings", "recordings/2026", "recordings/2026/11",
                            "recordings/2026/11/22"}) {
    EXPECT_EQ(Mode(dir.Join(level)), 0700) << level;
  }
  EXPECT_TRUE(MakeDirsDurably(day).ok());        // already there
  EXPECT_TRUE(MakeDirsDurably(day + "/").ok());  // trailing slash
}

TEST(FileIoTest, MakeDirsDurablyNamesWhatIsInTheWay) {
  testing::TempDir dir("pc-fileio");
  ASSERT_TRUE(testing::WriteWholeFile(dir.Join("file"), "x").ok());
  absl::Status st = MakeDirsDurably(dir.Join("file/2026"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(std::string(st.message()),
            "recording: cannot create directory " + dir.Join("file/2026") + ": Not a directory");
  st = MakeDirsDurably(dir.Join("file"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(std::string(st.message()),
            "recording: cannot create directory " + dir.Join("file") + ": Not a directory");
}

}  // namespace
}  // namespace portcullis::recorder
