#include "auth/identity/secret_box.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "broker/common/files.h"

namespace portcullis::auth {
namespace {

SecretBytes S(std::string_view s) { return *SecretBytes::FromString(s); }
SecretBox FixedBox(char fill = 'k') { return SecretBox::FromKey(S(std::string(32, fill))); }

void ExpectAuthFailure(const absl::StatusOr<SecretBytes>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "sealed secret failed authentication");
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pc_secret_box_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(SecretBoxTest, RoundTrip) {
  SecretBox box = FixedBox();
  for (std::string plain : {std::string(""), std::string("x"), std::string("totp seed 20 bytes!!"),
                            std::string(4096, '\xa5')}) {
    auto sealed = box.Seal(S(plain), "totp-seed:alice");
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    EXPECT_EQ(sealed->size(), SecretBox::kOverhead + plain.size());
    EXPECT_EQ(static_cast<unsigned char>((*sealed)[0]), 0x01);
    if (plain.size() >= 4) {
      EXPECT_EQ(sealed->find(plain), std::string::npos);
    }
    auto opened = box.Open(*sealed, "totp-seed:alice");
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(opened->Reveal(), plain);
  }
}

TEST(SecretBoxTest, NoncesDiffer) {
  SecretBox box = FixedBox();
  auto a = box.Seal(S("same"), "aad");
  auto b = box.Seal(S("same"), "aad");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->substr(1, 12), b->substr(1, 12));
  EXPECT_NE(*a, *b);
}

TEST(SecretBoxTest, RefusesOversizedInputs) {
  SecretBox box = FixedBox();
  EXPECT_EQ(box.Seal(S("x"), std::string(SecretBox::kMaxAadSize + 1, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
  ExpectAuthFailure(box.Open(std::string(SecretBox::kOverhead + SecretBytes::kMaxSize + 1, 1),
                             "aad"));
}

// One test per region of the sealed format: flipping any single bit fails.
class SecretBoxCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = box_.Seal(S("correct horse battery staple"), "totp-seed:alice");
    ASSERT_TRUE(s.ok());
    sealed_ = *s;
  }
  void FlipEveryBitIn(size_t begin, size_t end) {
    ASSERT_LE(end, sealed_.size());
    for (size_t i = begin; i < end; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = sealed_;
        bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
        SCOPED_TRACE("byte " + std::to_string(i) + " bit " + std::to_string(bit));
        ExpectAuthFailure(box_.Open(bad, "totp-seed:alice"));
      }
    }
  }
  SecretBox box_ = FixedBox();
  std::string sealed_;
};

TEST_F(SecretBoxCorruptionTest, Version) { FlipEveryBitIn(0, 1); }
TEST_F(SecretBoxCorruptionTest, Nonce) { FlipEveryBitIn(1, 13); }
TEST_F(SecretBoxCorruptionTest, Ciphertext) { FlipEveryBitIn(13, sealed_.size() - 16); }
TEST_F(SecretBoxCorruptionTest, Tag) { FlipEveryBitIn(sealed_.size() - 16, sealed_.size()); }

TEST_F(SecretBoxCorruptionTest, Truncation) {
  for (size_t n = 0; n < sealed_.size(); ++n) {
    SCOPED_TRACE("length " + std::to_string(n));
    ExpectAuthFailure(box_.Open(sealed_.substr(0, n), "totp-seed:alice"));
  }
}

TEST_F(SecretBoxCorruptionTest, AppendedBytes) {
  ExpectAuthFailure(box_.Open(sealed_ + "x", "totp-seed:alice"));
}

TEST_F(SecretBoxCorruptionTest, WrongAad) {
  ExpectAuthFailure(box_.Open(sealed_, "totp-seed:mallory"));
  ExpectAuthFailure(box_.Open(sealed_, ""));
  ExpectAuthFailure(box_.Open(sealed_, "totp-seed:alice "));
}

TEST_F(SecretBoxCorruptionTest, WrongKey) {
  SecretBox other = FixedBox('K');
  ExpectAuthFailure(other.Open(sealed_, "totp-seed:alice"));
  ASSERT_TRUE(box_.Open(sealed_, "totp-seed:alice").ok());  // control
}

// The fuzz corpus holds values sealed by Python's `cryptography` AESGCM
// (key 32 x 0x42, aad "fuzz-aad"): an independent implementation of the format.
TEST(SecretBoxTest, OpensValuesSealedByAnIndependentImplementation) {
  const std::string dir = std::string(PC_SECRET_BOX_CORPUS) + "/";
  SecretBox box = FixedBox('\x42');
  auto seed = ReadFileBounded(dir + "valid_seed20", 4096);
  ASSERT_TRUE(seed.ok()) << seed.status();
  auto opened = box.Open(*seed, "fuzz-aad");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->Reveal(), "12345678901234567890");
  auto empty = ReadFileBounded(dir + "valid_empty", 4096);
  ASSERT_TRUE(empty.ok());
  auto opened_empty = box.Open(*empty, "fuzz-aad");
  ASSERT_TRUE(opened_empty.ok());
  EXPECT_TRUE(opened_empty->empty());
  for (const char* bad : {"wrong_aad", "truncated", "bad_version"}) {
    auto data = ReadFileBounded(dir + bad, 4096);
    ASSERT_TRUE(data.ok()) << bad;
    ExpectAuthFailure(box.Open(*data, "fuzz-aad"));
  }
}

TEST(SecretBoxTest, MovedFromBoxRefuses) {
  SecretBox a = FixedBox();
  SecretBox b = std::move(a);
  EXPECT_TRUE(b.Seal(S("x"), "aad").ok());
  EXPECT_EQ(a.Seal(S("x"), "aad").status().code(),  // NOLINT(bugprone-use-after-move)
            absl::StatusCode::kFailedPrecondition);
}

TEST(SecretBoxKeyFileTest, CreateThenLoadRoundTrips) {
  TempDir dir;
  std::string path = dir.File("secret.key");
  ASSERT_TRUE(SecretBox::CreateKeyFile(path).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto box = SecretBox::LoadKeyFile(path);
  ASSERT_TRUE(box.ok()) << box.status();
  auto sealed = box->Seal(S("vaulted rdp password"), "vault:plc-hmi-1");
  ASSERT_TRUE(sealed.ok());
  auto again = SecretBox::LoadKeyFile(path);
  ASSERT_TRUE(again.ok());
  auto opened = again->Open(*sealed, "vault:plc-hmi-1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->Reveal(), "vaulted rdp password");
}

TEST(SecretBoxKeyFileTest, CreateTwiceIsRefusedAndKeepsTheKey) {
  TempDir dir;
  std::string path = dir.File("secret.key");
  ASSERT_TRUE(SecretBox::CreateKeyFile(path).ok());
  auto before = ReadFileBounded(path, 64);
  ASSERT_TRUE(before.ok());
  auto st = SecretBox::CreateKeyFile(path);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFileBounded(path, 64), *before);
}

TEST(SecretBoxKeyFileTest, GroupOrOtherAccessibleIsRefused) {
  TempDir dir;
  std::string path = dir.File("secret.key");
  ASSERT_TRUE(WriteFileAtomic(path, std::string(32, 'k'), 0600).ok());
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto box = SecretBox::LoadKeyFile(path);
    ASSERT_FALSE(box.ok()) << std::oct << mode;
    EXPECT_EQ(box.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(box.status().message().find("group or others"), absl::string_view::npos)
        << box.status();
    EXPECT_NE(box.status().message().find("chmod 600"), absl::string_view::npos);
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(SecretBox::LoadKeyFile(path).ok());
}

TEST(SecretBoxKeyFileTest, WrongSizeIsRefused) {
  TempDir dir;
  for (size_t n : {0, 1, 31, 33, 64, 100000}) {
    std::string path = dir.File("key" + std::to_string(n));
    ASSERT_TRUE(WriteFileAtomic(path, std::string(n, 'k'), 0600).ok());
    auto box = SecretBox::LoadKeyFile(path);
    ASSERT_FALSE(box.ok()) << n;
    EXPECT_EQ(box.status().code(), absl::StatusCode::kInvalidArgument) << box.status();
    EXPECT_NE(box.status().message().find("exactly 32 bytes"), absl::string_view::npos);
  }
}

TEST(SecretBoxKeyFileTest, MissingFileAndDirectoryAreRefused) {
  TempDir dir;
  EXPECT_EQ(SecretBox::LoadKeyFile(dir.File("absent")).status().code(),
            absl::StatusCode::kNotFound);
  std::string sub = dir.File("sub");
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  EXPECT_FALSE(SecretBox::LoadKeyFile(sub).ok());
}

TEST(SecretBoxDeathTest, FromKeyAbortsOnWrongKeySize) {
  EXPECT_DEATH(SecretBox::FromKey(S(std::string(16, 'k'))), "");
}

}  // namespace
}  // namespace portcullis::auth
