#include "source/postgres_cdc/snapshot_copy.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TEST(SnapshotPositionTest, FormatsAndParsesKeysWithSeparators) {
  SnapshotPosition p;
  p.lsn = 0x16B374D848ull;
  p.table = 2;
  EXPECT_EQ(p.Format(), "v2;snapshot;lsn=16/B374D848;table=2");
  p.after = std::vector<std::string>{"a/b", "c\\d;e", ""};
  EXPECT_EQ(p.Format(), "v2;snapshot;lsn=16/B374D848;table=2;after=a\\/b/c\\\\d;e/");
  ASSERT_TRUE(SnapshotPosition::Is(p.Format()));
  auto back = SnapshotPosition::Parse(p.Format());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->lsn, p.lsn);
  EXPECT_EQ(back->table, 2u);
  ASSERT_TRUE(back->after.has_value());
  EXPECT_EQ(*back->after, (std::vector<std::string>{"a/b", "c\\d;e", ""}));
  auto start = SnapshotPosition::Parse("v2;snapshot;lsn=0/1;table=0");
  ASSERT_TRUE(start.ok());
  EXPECT_FALSE(start->after.has_value());
  EXPECT_FALSE(SnapshotPosition::Is("v1;lsn=0/1;skip=0"));
}

TEST(SnapshotPositionTest, MalformedIsAConfigError) {
  for (const char* bad :
       {"v2;snapshot;lsn=zz;table=0", "v2;snapshot;lsn=0/1", "v2;snapshot;lsn=0/1;table=x",
        "v2;snapshot;lsn=0/1;table=;after=1", "v2;snapshot;lsn=0/1;table=0;after=a\\"}) {
    auto p = SnapshotPosition::Parse(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kConfigError);
    EXPECT_EQ(p.status().message(),
              std::string("postgres_cdc source: stored position '") + bad +
                  "' is not v2;snapshot;lsn=X/Y;table=I[;after=KEY] (was this source renamed "
                  "from another type? give it a new name)");
  }
}

}  // namespace
}  // namespace dataforge
