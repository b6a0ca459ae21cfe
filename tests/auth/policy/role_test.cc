#include "auth/policy/role.h"

#include <gtest/gtest.h>

namespace portcullis::policy {
namespace {

using Labels = std::map<std::string, std::string>;

struct SelectorCase {
  const char* name;
  LabelSelector selector;
  Labels labels;
  bool matches;
};

TEST(PolicySelectorTest, Table) {
  const Labels plc = {{"site", "plant-a"}, {"vendor", "acme"}, {"kind", "plc"}};
  const SelectorCase cases[] = {
      {"exact one key", {{"site", "plant-a"}}, plc, true},
      {"exact all keys", {{"site", "plant-a"}, {"vendor", "acme"}}, plc, true},
      {"missing key", {{"site", "plant-a"}, {"zone", "safety"}}, plc, false},
      {"wrong value", {{"site", "plant-b"}}, plc, false},
      {"one of two wrong", {{"site", "plant-a"}, {"vendor", "other"}}, plc, false},
      {"values are case-sensitive", {{"site", "Plant-A"}}, plc, false},
      {"keys are case-sensitive", {{"Site", "plant-a"}}, plc, false},
      {"wildcard value", {{"vendor", "*"}}, plc, true},
      {"wildcard value needs the key", {{"zone", "*"}}, plc, false},
      {"match all", {{"*", "*"}}, plc, true},
      {"match all on unlabeled target", {{"*", "*"}}, {}, true},
      {"empty selector matches nothing", {}, plc, false},
      {"empty selector, empty labels", {}, {}, false},
      {"star key with other value is no wildcard", {{"*", "x"}}, plc, false},
      {"star key mixed with others is no wildcard", {{"*", "*"}, {"site", "plant-a"}}, plc, false},
      {"selector on unlabeled target", {{"site", "plant-a"}}, {}, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(SelectorMatches(c.selector, c.labels), c.matches) << c.name;
  }
}

TEST(PolicySelectorTest, Format) {
  EXPECT_EQ(FormatSelector({{"vendor", "acme"}, {"site", "plant-a"}}),
            "{site=plant-a, vendor=acme}");
  EXPECT_EQ(FormatSelector({}), "{}");
}

TEST(PolicyProtocolTest, NamesRoundTrip) {
  for (Protocol p : {Protocol::kSsh, Protocol::kRdp, Protocol::kVnc, Protocol::kTcp}) {
    auto parsed = ParseProtocol(ProtocolName(p));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(ProtocolName(Protocol::kRdp), "rdp");
  EXPECT_FALSE(ParseProtocol("SSH").ok());
  EXPECT_FALSE(ParseProtocol("telnet").ok());
  EXPECT_FALSE(ParseProtocol("").ok());
}

TEST(PolicyFileTransferTest, PermittedTable) {
  struct Case {
    FileTransfer granted;
    TransferDirection dir;
    bool permitted;
  };
  const Case cases[] = {
      {FileTransfer::kNone, TransferDirection::kDownload, false},
      {FileTransfer::kNone, TransferDirection::kUpload, false},
      {FileTransfer::kDownload, TransferDirection::kDownload, true},
      {FileTransfer::kDownload, TransferDirection::kUpload, false},
      {FileTransfer::kUpload, TransferDirection::kDownload, false},
      {FileTransfer::kUpload, TransferDirection::kUpload, true},
      {FileTransfer::kBoth, TransferDirection::kDownload, true},
      {FileTransfer::kBoth, TransferDirection::kUpload, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TransferPermitted(c.granted, c.dir), c.permitted)
        << FileTransferName(c.granted) << " " << TransferDirectionName(c.dir);
  }
  EXPECT_EQ(*ParseFileTransfer("both"), FileTransfer::kBoth);
  EXPECT_FALSE(ParseFileTransfer("all").ok());
}

TEST(PolicyValidatorTest, Names) {
  EXPECT_TRUE(IsValidRoleName("vendor-acme"));
  EXPECT_TRUE(IsValidRoleName("0ps.team_1"));
  EXPECT_TRUE(IsValidRoleName(std::string(63, 'a')));
  EXPECT_FALSE(IsValidRoleName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidRoleName(""));
  EXPECT_FALSE(IsValidRoleName("-ops"));
  EXPECT_FALSE(IsValidRoleName("Ops"));
  EXPECT_FALSE(IsValidRoleName("ops team"));

  EXPECT_TRUE(IsValidLabelKey("example.com/zone"));
  EXPECT_TRUE(IsValidLabelValue("Plant_A-1.2"));
  EXPECT_FALSE(IsValidLabelKey(""));
  EXPECT_FALSE(IsValidLabelKey("a b"));
  EXPECT_FALSE(IsValidLabelValue("*"));
  EXPECT_FALSE(IsValidLabelValue(std::string(64, 'a')));
  EXPECT_FALSE(IsValidLabelValue("a=b"));

  EXPECT_TRUE(IsValidLogin("maint"));
  EXPECT_TRUE(IsValidLogin("_svc"));
  EXPECT_TRUE(IsValidLogin("Administrator"));
  EXPECT_TRUE(IsValidLogin("first.last-2"));
  EXPECT_FALSE(IsValidLogin("2root"));
  EXPECT_FALSE(IsValidLogin("-oProxyCommand"));
  EXPECT_FALSE(IsValidLogin("a b"));
  EXPECT_FALSE(IsValidLogin("dom\\user"));
  EXPECT_FALSE(IsValidLogin(std::string(65, 'a')));
}

TEST(PolicyTunnelTest, NormalizeTable) {
  struct Case {
    const char* in;
    const char* out;  // nullptr = error
  };
  const Case cases[] = {
      {"10.20.0.5:502", "10.20.0.5:502"},
      {"10.20.0.5:0502", "10.20.0.5:502"},
      {"PLC-1.Plant.Local:102", "plc-1.plant.local:102"},
      {"[FD00:0:0::5]:4840", "[fd00::5]:4840"},
      {"[::1]:22", "[::1]:22"},
      {"host:65535", "host:65535"},
      {"host:1", "host:1"},
      {"host:0", nullptr},
      {"host:65536", nullptr},
      {"host:100000", nullptr},
      {"host:", nullptr},
      {"host", nullptr},
      {":502", nullptr},
      {"host:50a", nullptr},
      {"host:+502", nullptr},
      {"fd00::5:4840", nullptr},
      {"[fd00::5]", nullptr},
      {"[fd00::5]4840", nullptr},
      {"[10.0.0.1]:502", nullptr},
      {"[fe80::1%eth0]:22", nullptr},
      {"10.20.0.256:502", nullptr},
      {"10.20.0:502", nullptr},
      {"010.20.0.5:502", nullptr},
      {"-bad.example:22", nullptr},
      {"bad-.example:22", nullptr},
      {"a..b:22", nullptr},
      {"host.:22", nullptr},
      {"under_score:22", nullptr},
      {"ho st:22", nullptr},
      {"", nullptr},
  };
  for (const auto& c : cases) {
    auto got = NormalizeTunnel(c.in);
    if (c.out == nullptr) {
      EXPECT_FALSE(got.ok()) << c.in << " -> " << (got.ok() ? *got : "");
    } else {
      ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
      EXPECT_EQ(*got, c.out) << c.in;
    }
  }
}

}  // namespace
}  // namespace portcullis::policy
