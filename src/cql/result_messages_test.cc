// RESULT, ERROR and EVENT bodies (sections 4.2.5, 4.2.6, 9) as exact bytes, hand-written from
// the spec's layouts, decoded back to exact fields; one test per malformed case.
#include <gtest/gtest.h>

#include "cql/messages.h"
#include "cql/testing/hex.h"

namespace dataforge::cql {
namespace {

using testing::Hex;
using testing::Unhex;

ErrorMessage Error(ErrorCode code) {
  ErrorMessage m;
  m.code = static_cast<int32_t>(code);
  m.message = "no";
  return m;
}

// Encodes `m`, checks the exact bytes, decodes them and checks that re-encoding is identical.
ErrorMessage CheckError(const ErrorMessage& m, const char* hex) {
  std::string body;
  EncodeError(m, &body);
  EXPECT_EQ(Hex(body), Hex(Unhex(hex)));
  auto back = DecodeError(body);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  if (!back.ok()) return {};
  std::string again;
  EncodeError(*back, &again);
  EXPECT_EQ(Hex(again), Hex(body));
  return *back;
}

TEST(ErrorTest, SyntaxErrorHasNoExtraFields) {
  ErrorMessage back = CheckError(Error(ErrorCode::kSyntaxError), "00 00 20 00 00 02 6e 6f");
  EXPECT_EQ(back.code, 0x2000);
  EXPECT_EQ(back.message, "no");
  EXPECT_EQ(ErrorCodeName(back.code), "Syntax_error");
}

TEST(ErrorTest, Unavailable) {
  ErrorMessage m = Error(ErrorCode::kUnavailable);
  m.consistency = Consistency::kQuorum;
  m.required_or_received = 3;
  m.alive_or_block_for = 1;
  ErrorMessage back = CheckError(m, "00 00 10 00 00 02 6e 6f | 00 04 00 00 00 03 00 00 00 01");
  EXPECT_EQ(back.consistency, Consistency::kQuorum);
  EXPECT_EQ(back.required_or_received, 3);
  EXPECT_EQ(back.alive_or_block_for, 1);
}

TEST(ErrorTest, WriteTimeout) {
  ErrorMessage m = Error(ErrorCode::kWriteTimeout);
  m.required_or_received = 0;
  m.alive_or_block_for = 1;
  m.write_type = "SIMPLE";
  ErrorMessage back = CheckError(
      m, "00 00 11 00 00 02 6e 6f | 00 01 00 00 00 00 00 00 00 01 00 06 53 49 4d 50 4c 45");
  EXPECT_EQ(back.write_type, "SIMPLE");
  EXPECT_EQ(back.alive_or_block_for, 1);
}

TEST(ErrorTest, ReadTimeout) {
  ErrorMessage m = Error(ErrorCode::kReadTimeout);
  m.consistency = Consistency::kLocalQuorum;
  m.required_or_received = 1;
  m.alive_or_block_for = 2;
  m.data_present = true;
  ErrorMessage back = CheckError(m, "00 00 12 00 00 02 6e 6f | 00 06 00 00 00 01 00 00 00 02 01");
  EXPECT_TRUE(back.data_present);
  EXPECT_EQ(back.consistency, Consistency::kLocalQuorum);
}

// v4: <cl><received><blockfor><numfailures><data_present>
TEST(ErrorTest, ReadFailure) {
  ErrorMessage m = Error(ErrorCode::kReadFailure);
  m.required_or_received = 1;
  m.alive_or_block_for = 2;
  m.num_failures = 1;
  ErrorMessage back =
      CheckError(m, "00 00 13 00 00 02 6e 6f | 00 01 00 00 00 01 00 00 00 02 00 00 00 01 00");
  EXPECT_EQ(back.num_failures, 1);
  EXPECT_FALSE(back.data_present);
}

TEST(ErrorTest, FunctionFailure) {
  ErrorMessage m = Error(ErrorCode::kFunctionFailure);
  m.keyspace = "ks";
  m.function = "f";
  m.arg_types = {"int"};
  ErrorMessage back =
      CheckError(m, "00 00 14 00 00 02 6e 6f | 00 02 6b 73 00 01 66 00 01 00 03 69 6e 74");
  EXPECT_EQ(back.keyspace, "ks");
  EXPECT_EQ(back.function, "f");
  EXPECT_EQ(back.arg_types, std::vector<std::string>{"int"});
}

// v4: <cl><received><blockfor><numfailures><write_type>
TEST(ErrorTest, WriteFailure) {
  ErrorMessage m = Error(ErrorCode::kWriteFailure);
  m.consistency = Consistency::kAll;
  m.required_or_received = 2;
  m.alive_or_block_for = 3;
  m.num_failures = 1;
  m.write_type = "BATCH";
  ErrorMessage back = CheckError(
      m,
      "00 00 15 00 00 02 6e 6f | 00 05 00 00 00 02 00 00 00 03 00 00 00 01 00 05 42 41 54 43 48");
  EXPECT_EQ(back.write_type, "BATCH");
  EXPECT_EQ(back.num_failures, 1);
}

TEST(ErrorTest, AlreadyExists) {
  ErrorMessage m = Error(ErrorCode::kAlreadyExists);
  m.keyspace = "ks";
  m.table = "t";
  ErrorMessage back = CheckError(m, "00 00 24 00 00 02 6e 6f | 00 02 6b 73 00 01 74");
  EXPECT_EQ(back.keyspace, "ks");
  EXPECT_EQ(back.table, "t");
}

TEST(ErrorTest, Unprepared) {
  ErrorMessage m = Error(ErrorCode::kUnprepared);
  m.unprepared_id = "\xab\xcd";
  ErrorMessage back = CheckError(m, "00 00 25 00 00 02 6e 6f | 00 02 ab cd");
  EXPECT_EQ(back.unprepared_id, "\xab\xcd");
}

TEST(ErrorTest, UnknownCodeIgnoresTheRest) {
  auto m = DecodeError(Unhex("00 00 77 77 00 02 6e 6f 01 02 03"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->code, 0x7777);
  EXPECT_EQ(m->message, "no");
  EXPECT_EQ(ErrorCodeName(m->code), "error 0x7777");
}

TEST(ErrorTest, TruncatedExtraFields) {
  auto m = DecodeError(Unhex("00 00 10 00 00 02 6e 6f 00 04 00 00"));
  EXPECT_EQ(m.status().ToString(),
            "InvalidArgument: ERROR (Unavailable) body: truncated [int] at byte 10 of 12 (needs 4 "
            "more bytes, 2 left)");
}

// Rows with the global table spec (0x0001) and a paging state (0x0002): two columns k text and
// v int in ks.t, two rows ("a", 1) and ("b", null).
constexpr const char* kRowsGlobalPaged =
    "00 00 00 02 "                             // kind Rows
    "00 00 00 03 00 00 00 02 "                 // flags, columns_count
    "00 00 00 02 ab cd "                       // paging state
    "00 02 6b 73 00 01 74 "                    // global table spec ks.t
    "00 01 6b 00 0d 00 01 76 00 09 "           // k varchar, v int
    "00 00 00 02 "                             // rows_count
    "00 00 00 01 61 00 00 00 04 00 00 00 01 "  // "a", 1
    "00 00 00 01 62 ff ff ff ff";              // "b", null

ResultMessage RowsGlobalPaged() {
  ResultMessage m;
  m.kind = ResultKind::kRows;
  m.rows.metadata.columns = {{"ks", "t", "k", DataType::Of(TypeId::kVarchar)},
                             {"ks", "t", "v", DataType::Of(TypeId::kInt)}};
  m.rows.metadata.column_count = 2;
  m.rows.metadata.paging_state = std::string("\xab\xcd");
  m.rows.rows = {{std::string("a"), std::string("\0\0\0\x01", 4)},
                 {std::string("b"), std::nullopt}};
  return m;
}

TEST(RowsResultTest, GlobalTableSpecAndPagingStateExactBytes) {
  std::string body;
  EncodeResult(RowsGlobalPaged(), &body);
  EXPECT_EQ(Hex(body), Hex(Unhex(kRowsGlobalPaged)));
}

TEST(RowsResultTest, GlobalTableSpecAndPagingStateDecode) {
  auto m = DecodeResult(Unhex(kRowsGlobalPaged));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->kind, ResultKind::kRows);
  const RowsMetadata& md = m->rows.metadata;
  EXPECT_EQ(md.column_count, 2);
  EXPECT_FALSE(md.no_metadata);
  EXPECT_EQ(md.paging_state, std::string("\xab\xcd"));
  ASSERT_EQ(md.columns.size(), 2u);
  EXPECT_EQ(md.columns[1].keyspace, "ks");
  EXPECT_EQ(md.columns[1].table, "t");
  EXPECT_EQ(md.columns[1].name, "v");
  EXPECT_EQ(md.columns[1].type, DataType::Of(TypeId::kInt));
  ASSERT_EQ(m->rows.rows.size(), 2u);
  EXPECT_EQ(m->rows.rows[0][0], std::string("a"));
  EXPECT_EQ(m->rows.rows[0][1], std::string("\0\0\0\x01", 4));
  EXPECT_EQ(m->rows.rows[1][1], std::nullopt);
}

TEST(RowsResultTest, ColumnsOfTwoTablesCarryTheirOwnSpec) {
  ResultMessage m;
  m.kind = ResultKind::kRows;
  m.rows.metadata.columns = {{"a", "t", "x", DataType::Of(TypeId::kBoolean)},
                             {"b", "u", "y", DataType::Of(TypeId::kBoolean)}};
  std::string body;
  EncodeResult(m, &body);
  EXPECT_EQ(Hex(body),
            "00 00 00 02 00 00 00 00 00 00 00 02 "
            "00 01 61 00 01 74 00 01 78 00 04 "
            "00 01 62 00 01 75 00 01 79 00 04 "
            "00 00 00 00");
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->rows.metadata.columns[1].keyspace, "b");
  EXPECT_EQ(back->rows.metadata.columns[1].table, "u");
}

TEST(RowsResultTest, NoMetadata) {
  ResultMessage m;
  m.kind = ResultKind::kRows;
  m.rows.metadata.no_metadata = true;
  m.rows.metadata.column_count = 1;
  m.rows.rows = {{std::string("z")}};
  std::string body;
  EncodeResult(m, &body);
  EXPECT_EQ(Hex(body), "00 00 00 02 00 00 00 04 00 00 00 01 00 00 00 01 00 00 00 01 7a");
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->rows.metadata.no_metadata);
  EXPECT_EQ(back->rows.metadata.column_count, 1);
  EXPECT_EQ(back->rows.rows[0][0], std::string("z"));
}

TEST(RowsResultTest, HugeRowCount) {
  auto m = DecodeResult(Unhex("00 00 00 02 00 00 00 04 00 00 00 01 7f ff ff ff 00 00 00 00"));
  EXPECT_EQ(m.status().ToString(),
            "InvalidArgument: RESULT body: row count 2147483647 of 1 columns at byte 12 does not "
            "fit the 4 bytes left");
}

TEST(RowsResultTest, RowsWithoutColumns) {
  auto m = DecodeResult(Unhex("00 00 00 02 00 00 00 04 00 00 00 00 7f ff ff ff"));
  EXPECT_EQ(m.status().ToString(),
            "InvalidArgument: RESULT body: row count 2147483647 of 0 columns at byte 12 does not "
            "fit the 0 bytes left");
}

TEST(RowsResultTest, HugeColumnCount) {
  auto m = DecodeResult(Unhex("00 00 00 02 00 00 00 01 10 00 00 00 00 00 00 00 00 00"));
  EXPECT_EQ(m.status().ToString(),
            "InvalidArgument: RESULT body: column count 268435456 does not fit the 2 bytes left "
            "at byte 16");
}

TEST(RowsResultTest, UnknownResultKind) {
  auto m = DecodeResult(Unhex("00 00 00 09"));
  EXPECT_EQ(m.status().ToString(),
            "InvalidArgument: RESULT body: unknown result kind 0x0009 at byte 0");
}

// v4 Prepared: <id><flags><columns_count><pk_count>[<pk_index_1>...][<global_table_spec>]
// <col_spec_1>... then <result_metadata>.
constexpr const char* kPrepared =
    "00 00 00 04 "                                // kind Prepared
    "00 02 ab cd "                                // id
    "00 00 00 01 00 00 00 02 00 00 00 01 00 00 "  // global, 2 columns, 1 pk index: 0
    "00 02 6b 73 00 01 74 "                       // ks.t
    "00 01 6b 00 0d 00 01 76 00 09 "              // k text, v int
    "00 00 00 04 00 00 00 00";                    // result metadata: no_metadata, 0 columns

TEST(PreparedResultTest, ExactBytesAndDecode) {
  ResultMessage m;
  m.kind = ResultKind::kPrepared;
  m.prepared.id = "\xab\xcd";
  m.prepared.bind_columns = {{"ks", "t", "k", DataType::Of(TypeId::kVarchar)},
                             {"ks", "t", "v", DataType::Of(TypeId::kInt)}};
  m.prepared.pk_indexes = {0};
  m.prepared.result_metadata.no_metadata = true;
  std::string body;
  EncodeResult(m, &body);
  EXPECT_EQ(Hex(body), Hex(Unhex(kPrepared)));
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->prepared.id, "\xab\xcd");
  EXPECT_EQ(back->prepared.pk_indexes, std::vector<uint16_t>{0});
  ASSERT_EQ(back->prepared.bind_columns.size(), 2u);
  EXPECT_EQ(back->prepared.bind_columns[0].name, "k");
  EXPECT_EQ(back->prepared.bind_columns[0].table, "t");
  EXPECT_TRUE(back->prepared.result_metadata.no_metadata);
}

TEST(PreparedResultTest, SelectResultMetadata) {
  ResultMessage m;
  m.kind = ResultKind::kPrepared;
  m.prepared.id = "i";
  m.prepared.result_metadata.columns = {{"ks", "t", "v", DataType::Of(TypeId::kBigint)}};
  std::string body;
  EncodeResult(m, &body);
  EXPECT_EQ(Hex(body),
            "00 00 00 04 00 01 69 00 00 00 00 00 00 00 00 00 00 00 00 "
            "00 00 00 01 00 00 00 01 00 02 6b 73 00 01 74 00 01 76 00 02");
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->prepared.result_metadata.columns.size(), 1u);
  EXPECT_EQ(back->prepared.result_metadata.columns[0].type, DataType::Of(TypeId::kBigint));
}

TEST(PreparedResultTest, HugePartitionKeyCount) {
  auto m = DecodeResult(Unhex("00 00 00 04 00 00 00 00 00 00 00 00 00 00 7f ff ff ff"));
  EXPECT_EQ(m.status().ToString(),
            "InvalidArgument: RESULT body: partition key count 2147483647 at byte 14 does not fit "
            "the 0 bytes left");
}

TEST(ResultTest, VoidAndSetKeyspace) {
  std::string body;
  EncodeResult({}, &body);
  EXPECT_EQ(Hex(body), "00 00 00 01");
  ResultMessage ks;
  ks.kind = ResultKind::kSetKeyspace;
  ks.keyspace = "ks";
  body.clear();
  EncodeResult(ks, &body);
  EXPECT_EQ(Hex(body), "00 00 00 03 00 02 6b 73");
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->keyspace, "ks");
}

TEST(ResultTest, SchemaChangeTable) {
  ResultMessage m;
  m.kind = ResultKind::kSchemaChange;
  m.schema_change = {"CREATED", "TABLE", "ks", "t", {}};
  std::string body;
  EncodeResult(m, &body);
  EXPECT_EQ(Hex(body),
            "00 00 00 05 00 07 43 52 45 41 54 45 44 00 05 54 41 42 4c 45 00 02 6b 73 00 01 74");
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->schema_change.change_type, "CREATED");
  EXPECT_EQ(back->schema_change.target, "TABLE");
  EXPECT_EQ(back->schema_change.keyspace, "ks");
  EXPECT_EQ(back->schema_change.name, "t");
}

TEST(ResultTest, SchemaChangeKeyspaceAndFunction) {
  ResultMessage m;
  m.kind = ResultKind::kSchemaChange;
  m.schema_change = {"DROPPED", "KEYSPACE", "ks", "", {}};
  std::string body;
  EncodeResult(m, &body);
  EXPECT_EQ(Hex(body),
            "00 00 00 05 00 07 44 52 4f 50 50 45 44 00 08 4b 45 59 53 50 41 43 45 00 "
            "02 6b 73");
  m.schema_change = {"UPDATED", "FUNCTION", "ks", "f", {"int", "text"}};
  body.clear();
  EncodeResult(m, &body);
  auto back = DecodeResult(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->schema_change.argument_types, (std::vector<std::string>{"int", "text"}));
}

TEST(EventTest, SchemaChangeEvent) {
  std::string body;
  EncodeSchemaChangeEvent({"CREATED", "KEYSPACE", "ks", "", {}}, &body);
  EXPECT_EQ(Hex(body),
            "00 0d 53 43 48 45 4d 41 5f 43 48 41 4e 47 45 00 07 43 52 45 41 54 45 44 00 08 4b 45 "
            "59 53 50 41 43 45 00 02 6b 73");
  auto back = DecodeSchemaChangeEvent(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->keyspace, "ks");
  auto other = DecodeSchemaChangeEvent(Unhex("00 02 55 50"));
  EXPECT_EQ(other.status().ToString(),
            "InvalidArgument: EVENT body: event type 'UP', expected SCHEMA_CHANGE");
}

}  // namespace
}  // namespace dataforge::cql
