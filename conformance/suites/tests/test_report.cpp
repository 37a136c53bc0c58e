// The conformance report as JSON: a vendor's name is the plugin's own bytes, which need not be UTF-8;
// the report replaces what is not (U+FFFD) instead of throwing and losing every result (issue 13, item 9).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lowbit/conformance/report.hpp"

using namespace lowbit::conformance;

TEST(Report, JsonReplacesInvalidUtf8) {
  Check c("vendor \xff\xfe", "e4m3", "ml_dtypes", "encode rne \xc3");
  c.cases = 1;
  c.first_errors.push_back("0x\x80");
  std::string text;
  ASSERT_NO_THROW(text = report_json({c}));
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["checks"][0]["impl"], "vendor \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(j["checks"][0]["name"], "encode rne \xef\xbf\xbd");
  EXPECT_EQ(j["checks"][0]["first_errors"][0], "0x\xef\xbf\xbd");
  EXPECT_EQ(j["passed"], 1);
}
