#include "source/postgres_cdc/row_key.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

using Cols = std::vector<std::string>;

TableKeyFacts Facts(char identity, Cols pk, Cols index = {}) {
  TableKeyFacts f;
  f.table = "public.items";
  f.replica_identity = identity;
  f.columns = {"id", "region", "email", "note"};
  f.primary_key = std::move(pk);
  f.identity_index = std::move(index);
  return f;
}

TEST(ChooseRowKeyTest, FullIdentityWithoutPrimaryKeyTakesTheStoreKeyColumn) {
  auto k = ChooseRowKey(Facts('f', {}), {}, "id");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(*k, Cols{"id"});
  // Explicit key_columns win, in the order given.
  k = ChooseRowKey(Facts('f', {}), {"region", "email"}, "id");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(*k, (Cols{"region", "email"}));
}

TEST(ChooseRowKeyTest, FullIdentityWithoutAnyKeyColumnNamesTheOption) {
  auto k = ChooseRowKey(Facts('f', {}), {}, "");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(k.status().message(),
            "postgres_cdc source: table public.items has REPLICA IDENTITY FULL and no primary key, "
            "and the store's key (process.key_column) is not read from a path data.<column>: name "
            "the columns that identify a store row with source.key_columns: {public.items: "
            "[COLUMN, ...]}");
  k = ChooseRowKey(Facts('f', {}), {}, "uuid");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "postgres_cdc source: table public.items has REPLICA IDENTITY FULL and no primary key, "
            "and it has no column 'uuid' (the store's key reads data.uuid): name the columns that "
            "identify a store row with source.key_columns: {public.items: [COLUMN, ...]}");
}

// A partitioned table's primary key includes the partition column; the store keys by id alone,
// so a row moved to another partition keeps its record key.
TEST(ChooseRowKeyTest, StoreKeyColumnInsideThePrimaryKeyWins) {
  auto k = ChooseRowKey(Facts('d', {"id", "region"}), {}, "id");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, Cols{"id"});
  // Not in the primary key: a delete would not carry it, so the primary key it is.
  k = ChooseRowKey(Facts('d', {"id", "region"}), {}, "email");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, (Cols{"id", "region"}));
  k = ChooseRowKey(Facts('d', {"id"}), {}, "");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, Cols{"id"});
  // FULL with a primary key: any column is sent with a delete.
  k = ChooseRowKey(Facts('f', {"id", "region"}), {}, "email");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, Cols{"email"});
}

TEST(ChooseRowKeyTest, ReplicaIdentityIndex) {
  auto k = ChooseRowKey(Facts('i', {}, {"email"}), {}, "id");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, Cols{});  // the server marks the index columns
  k = ChooseRowKey(Facts('i', {}, {"email"}), {}, "email");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, Cols{"email"});
}

TEST(ChooseRowKeyTest, ConfiguredColumnsAreChecked) {
  auto k = ChooseRowKey(Facts('f', {}), {"id", "nosuch"}, "");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(k.status().message(),
            "postgres_cdc source: source.key_columns names column 'nosuch' of public.items, which "
            "has no such column (columns: id, region, email, note)");
  k = ChooseRowKey(Facts('d', {"id"}), {"email"}, "");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "postgres_cdc source: source.key_columns names column 'email' of public.items, which "
            "is not in its replica identity (id), so a delete does not carry it: name those "
            "columns, or run ALTER TABLE public.items REPLICA IDENTITY FULL");
  k = ChooseRowKey(Facts('n', {"id"}), {"id"}, "");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "postgres_cdc source: source.key_columns names column 'id' of public.items, which is "
            "not in its replica identity (none), so a delete does not carry it: name those "
            "columns, or run ALTER TABLE public.items REPLICA IDENTITY FULL");
}

TEST(ChooseRowKeyTest, NoPrimaryKeyAndDefaultIdentity) {
  auto k = ChooseRowKey(Facts('d', {}), {}, "id");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().message(),
            "postgres_cdc source: table public.items has no primary key, so its updates and "
            "deletes cannot name a row: add a primary key, or ALTER TABLE public.items REPLICA "
            "IDENTITY FULL");
}

}  // namespace
}  // namespace dataforge
