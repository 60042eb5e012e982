// The Store contract's schema catalog and read-only handles (store/store.h), for every backend
// (store_conformance.h): EnsureTable, CreateKeyspace, kReadOnly.
#include "conformance/store_conformance.h"

namespace dataforge::store_conformance {

STORE_CONFORMANCE_SUITE();

TYPED_TEST(StoreConformance, EnsureTableIsIdempotentAndReportsConflicts) {
  Store* store = this->store_.get();
  EXPECT_EQ(store->DescribeTable(kTable).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  auto described = store->DescribeTable(kTable);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->table, kTable);
  EXPECT_EQ(described->key_column, "id");
  ASSERT_FALSE(described->columns.empty());
  EXPECT_EQ(described->columns[0].name, "id");  // the key column first
  std::set<std::pair<std::string, std::string>> columns;
  for (const auto& c : described->columns) columns.insert({c.name, c.type});
  std::set<std::pair<std::string, std::string>> want;
  for (const auto& c : Users().columns) want.insert({c.name, c.type});
  EXPECT_EQ(columns, want);

  TableSchema retyped = Users();
  retyped.columns[5].type = "text";
  Status s = store->EnsureTable(retyped);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(), TypeParam::TypeConflict(kTable, "dob", "timestamp", "text"));

  TableSchema rekeyed = Users();
  rekeyed.key_column = "name";
  s = store->EnsureTable(rekeyed);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(), TypeParam::KeyConflict(kTable, "id", "name"));

  TableSchema wider = Users();
  wider.columns.push_back({"email", "text"});
  s = store->EnsureTable(wider);
  if (TypeParam::kAddsColumns) {
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(store->DescribeTable(kTable)->columns.size(), 7u);
  } else {
    EXPECT_EQ(s.code(), StatusCode::kConfigError);
    EXPECT_NE(s.message().find("ALTER TABLE shop.users ADD email text"), std::string::npos)
        << s.message();
    EXPECT_EQ(store->DescribeTable(kTable)->columns.size(), 6u);
  }

  auto tables = store->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, std::vector<std::string>{kTable});  // no bookkeeping tables
  TableSchema orders{"shop.orders", "order_id", {{"order_id", "text"}, {"total", "double"}}};
  ASSERT_TRUE(store->EnsureTable(orders).ok());
  EXPECT_EQ(*store->ListTables(), (std::vector<std::string>{"shop.orders", kTable}));
}

TYPED_TEST(StoreConformance, CreateKeyspaceKeepsAnExistingOne) {
  Store* store = this->store_.get();
  ASSERT_TRUE(
      store->CreateKeyspace({"conf_ks", {{"class", "SimpleStrategy"}, {"replication_factor", "1"}}})
          .ok());
  ASSERT_TRUE(
      store->CreateKeyspace({"conf_ks", {{"class", "SimpleStrategy"}, {"replication_factor", "3"}}})
          .ok());
  ASSERT_TRUE(store->EnsureTable(Users()).ok());  // creates keyspace "shop"
  auto keyspaces = store->ListKeyspaces();
  ASSERT_TRUE(keyspaces.ok()) << keyspaces.status().ToString();
  std::vector<std::string> names;
  std::string factor;
  for (const auto& k : *keyspaces) {
    names.push_back(k.name);
    if (k.name != "conf_ks") continue;
    for (const auto& [key, value] : k.replication) {
      if (key == "replication_factor") factor = value;
    }
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::count(names.begin(), names.end(), "conf_ks"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "shop"), 1);
  EXPECT_EQ(factor, "1");  // the first creation's replication stays
}

TYPED_TEST(StoreConformance, ReadOnlyReadsAndRefusesWrites) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), this->FirstBatch());
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  this->ExpectFirstBatch(ro.get());

  Status s = ro->Apply(Batch({50}, "x", 50));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), TypeParam::ReadOnlyApply());
  TableSchema other{"shop.other", "id", {{"id", "text"}}};
  EXPECT_EQ(ro->EnsureTable(other).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ro->CreateKeyspace({"ro_ks", {}}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ro->DescribeTable("shop.other").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Get(kTable, Key(50)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Counters()->stored, 10u);

  // The writer goes on; after Refresh the reader sees it.
  this->Apply(this->store_.get(), Batch({10, 11}, "b", 14));
  ASSERT_TRUE(ro->Refresh().ok());
  EXPECT_EQ(this->Count(ro.get()), 12u);
  EXPECT_EQ(ro->Counters()->stored, 12u);
  EXPECT_EQ(*ro->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(14));
}

}  // namespace dataforge::store_conformance
