#include "source/postgres_cdc/postgres_cdc_source.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TEST(CdcPositionTest, FormatsAndParses) {
  CdcPosition p{0x16B374D848ull, 7};
  EXPECT_EQ(p.Format(), "v1;lsn=16/B374D848;skip=7");
  auto back = CdcPosition::Parse(p.Format());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->lsn, p.lsn);
  EXPECT_EQ(back->skip, 7u);
  auto empty = CdcPosition::Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->lsn, 0u);
  EXPECT_EQ(empty->skip, 0u);
}

TEST(CdcPositionTest, ForeignPositionIsAConfigError) {
  for (const char* bad :
       {"v1;seed=abc;page=3;index=0", "v1;lsn=zz;skip=0", "v1;lsn=0/1;skip=x", "v1;lsn=0/1"}) {
    auto p = CdcPosition::Parse(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kConfigError);
    EXPECT_EQ(p.status().message(),
              std::string("postgres_cdc source: stored position '") + bad +
                  "' is not v1;lsn=X/Y;skip=N (was this source renamed from another type? give it "
                  "a new name)");
  }
}

}  // namespace
}  // namespace dataforge
