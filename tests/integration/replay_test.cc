// Dead letters replayed through the current mapping (`dataforge deadletter replay`, POST
// /v1/deadletters/replay): a pipeline whose mapping refuses some records, the mapping fixed in
// the pipeline file, the letters replayed: rows with exact values, the balance exact, a second
// replay refused, a still-bad letter dead-lettered again, a source letter refused; over HTTP
// with roles and a read-only store; and a replay killed with SIGKILL, then run again.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/cql_endpoint.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// The mapping: age is required and read from dob.age; `fixed` also reads dob.years (the shape
// of some records), which is the fix.
std::string PipelineYaml(const std::string& capture, bool fixed) {
  return fmt::format(
      "dags: {{}}\n"  // the default pipeline's DAG would fetch the file again
      "source:\n"
      "  url: file://{}\n"
      "process:\n"
      "  table: dataforge.people\n"
      "  key_column: id\n"
      "  columns:\n"
      "    - {{name: id, type: uuid, path: $key, required: true}}\n"
      "    - {{name: email, path: email}}\n"
      "    - {{name: age, type: int, path: {}, required: true}}\n",
      capture, fixed ? "[dob.age, dob.years]" : "dob.age");
}

std::string Uuid(int i) {
  return fmt::format("00000000-0000-4000-8000-{:012d}", i);
}
std::string Person(int i, const std::string& dob) {
  return fmt::format(R"({{"login":{{"uuid":"{}"}},"email":"p{}@example.com","dob":{}}})", Uuid(i),
                     i, dob);
}

// The id ("process:N") of the process letter of the record with login.uuid `uuid`.
std::string LetterOf(const std::vector<std::string>& letters, const std::string& uuid) {
  for (const auto& l : letters) {
    if (JsonField(l, "stage") == "process" && JsonField(l, "payload.login.uuid") == uuid) {
      std::string id = l.substr(l.find("\"id\":") + 5);
      return "process:" + id.substr(0, id.find(','));
    }
  }
  ADD_FAILURE() << "no process letter of " << uuid;
  return "";
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    capture_ = dir_.Sub("capture.json");
    config_ = dir_.Sub("pipeline.yaml");
    data_ = dir_.Sub("data");
    where_ = {"--config", config_, "--data-dir", data_};
  }
  // Runs the pipeline (the broken mapping) over `records`, then fixes the mapping.
  void RunThenFix(const std::string& records) {
    WriteFile(capture_, "{\"results\":[" + records + "]}");
    WriteFile(config_, PipelineYaml(capture_, false));
    auto r = Df({"run", "--no-progress"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    WriteFile(config_, PipelineYaml(capture_, true));
  }
  ProcessResult Df(std::vector<std::string> args) {
    args.insert(args.end(), where_.begin(), where_.end());
    return RunDataforge(args, 180000);
  }
  std::string Row(const std::string& key) {
    auto r = Df({"table", "get", "dataforge.people", key});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  TempDir dir_;
  std::string capture_, config_, data_;
  std::vector<std::string> where_;
};

TEST_F(ReplayTest, FixedMappingReplaysLettersIntoRowsOnceAndKeepsTheBalance) {
  // 1 maps; 2 and 3 have dob.years, not dob.age (missing_field); 3's is not a number; 42 is not
  // an object (a source letter).
  RunThenFix(Person(1, R"({"age":30})") + "," + Person(2, R"({"years":31})") + "," +
             Person(3, R"({"years":"old"})") + ",42");
  StatusJson s = Status(data_, {"--config", config_});
  EXPECT_EQ(s.fetched, 4);
  EXPECT_EQ(s.stored, 1);
  EXPECT_EQ(s.dead_lettered, 3);
  auto letters = DeadLetters(data_, {"--config", config_});
  ASSERT_EQ(letters.size(), 3u);
  for (const auto& l : letters) {
    EXPECT_EQ(JsonField(l, "reason_class"),
              JsonField(l, "stage") == "source" ? "invalid_json" : "missing_field")
        << l;
    EXPECT_NE(l.find("\"replay\":null"), std::string::npos) << l;
  }
  auto missing = Df({"deadletter", "list", "--reason", "missing_field"});
  ASSERT_EQ(missing.exit_code, 0) << missing.err;
  EXPECT_EQ(SplitLines(missing.out).size(), 2u) << missing.out;
  auto typo = Df({"deadletter", "list", "--reason", "typo"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err,
            "dataforge: reason class 'typo' is not one of: invalid_json, missing_key, "
            "missing_field, type_mismatch, too_large, schema, wire_format, other\n");
  const std::string two = LetterOf(letters, Uuid(2)), three = LetterOf(letters, Uuid(3));

  // Replayed through the fixed mapping: 2 is stored, 3 is refused again with the new reason.
  auto r = Df({"deadletter", "replay", two, three});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{}: stored key {}\n"
                               "{}: dead-lettered again: column \"age\": value old at "
                               "dob.years is not a 32-bit integer\n"
                               "stored 1, dead-lettered again 1, refused 0 (of 2 letters)\n",
                               two, Uuid(2), three));
  EXPECT_EQ(Row(Uuid(2)),
            fmt::format(R"({{"id":"{}","email":"p2@example.com","age":31}})", Uuid(2)) + "\n");
  auto balanced = [&] {
    auto st = Df({"status", "--json"});
    EXPECT_EQ(st.exit_code, 0) << st.err;
    EXPECT_NE(st.out.find(R"("fetched":4,"staged":3,"streamed":3,"stored":2,"dead_lettered":2,)"
                          R"("dead_lettered_source":1,"dead_lettered_process":1,"lost":0,)"
                          R"("staging_rows":3,"store_rows":2,)"),
              std::string::npos)
        << st.out;
    EXPECT_NE(st.out.find(R"("balanced":true)"), std::string::npos) << st.out;
    auto human = Df({"status"});
    EXPECT_NE(human.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
        << human.out;
  };
  balanced();
  letters = DeadLetters(data_, {"--config", config_});
  for (const auto& l : letters) {
    if (JsonField(l, "payload.login.uuid") == Uuid(2)) {
      EXPECT_EQ(JsonField(l, "replay.outcome"), "stored") << l;
      EXPECT_EQ(JsonField(l, "replay.key"), Uuid(2)) << l;
    }
    if (JsonField(l, "payload.login.uuid") == Uuid(3)) {
      EXPECT_EQ(JsonField(l, "replay.outcome"), "dead_lettered") << l;
      EXPECT_EQ(JsonField(l, "replay.reason"),
                "column \"age\": value old at dob.years is not a 32-bit integer")
          << l;
    }
  }

  // Again: refused (exit 1), nothing changes.
  r = Df({"deadletter", "replay", two});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.starts_with(two + ": refused: already replayed at ")) << r.out;
  EXPECT_NE(r.out.find(": stored key " + Uuid(2) +
                       "\nstored 0, dead-lettered again 0, refused 1 "
                       "(of 1 letter)\n"),
            std::string::npos)
      << r.out;
  balanced();
  // A source letter never reached the log: refused, one line.
  r = Df({"deadletter", "replay", "source:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "source:1: refused: a source-stage letter never reached the log, so there is no "
            "mapping to run again: fix the source (or source.* settings) and fetch the record "
            "again\nstored 0, dead-lettered again 0, refused 1 (of 1 letter)\n");
  // Unknown and malformed ids: exit 2, nothing replayed.
  r = Df({"deadletter", "replay", "process:99"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: no dead letter process:99: see `dataforge deadletter list` (ids are "
            "process:N for the store's letters, source:N for the staging's)\n");
  r = Df({"deadletter", "replay", "proc:1"});
  EXPECT_EQ(r.exit_code, 2);
  // --all --reason: the class of the letter's own reason; an unknown class is exit 2.
  r = Df({"deadletter", "replay", "--all", "--reason", "invalid_json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "stored 0, dead-lettered again 0, refused 0 (of 0 letters)\n");
  r = Df({"deadletter", "replay", "--all", "--reason", "bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reason class 'bogus' is not one of: invalid_json, missing_key, "
            "missing_field, type_mismatch, too_large, schema, wire_format, other\n");
  // --all: only 3 is left (2 is stored); it is refused by the mapping again.
  r = Df({"deadletter", "replay", "--all", "--reason", "missing_field"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{}: dead-lettered again: column \"age\": value old at dob.years is "
                               "not a 32-bit integer\nstored 0, dead-lettered again 1, refused 0 "
                               "(of 1 letter)\n",
                               three));
  balanced();
}

TEST_F(ReplayTest, OverHttpWithRolesAndRefusedWhileTheStoreIsReadOnly) {
  RunThenFix(Person(1, R"({"age":30})") + "," + Person(2, R"({"years":31})") + "," +
             Person(3, R"({"years":33})"));
  ASSERT_EQ(Df({"users", "add", "olga", "--role", "admin"}).exit_code, 0);
  ASSERT_EQ(Df({"users", "add", "rita", "--role", "reader"}).exit_code, 0);
  auto key = [&](const std::string& user) {
    auto k = Df({"keys", "create", user});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    return SplitLines(k.out).at(0);
  };
  const std::string olga = key("olga"), rita = key("rita");
  auto letters = DeadLetters(data_, {"--config", config_});
  ASSERT_EQ(letters.size(), 2u);
  const std::string two = LetterOf(letters, Uuid(2)), three = LetterOf(letters, Uuid(3));
  const std::string body = fmt::format(R"({{"ids":["{}","source:7"]}})", two);
  {
    ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_});
    ASSERT_TRUE(s.up());
    const std::string url = s.Url("/v1/deadletters/replay");
    auto as = [](const std::string& k, std::vector<std::string> more) {
      more.insert(more.begin(), {"-H", "Authorization: Bearer " + k});
      return more;
    };
    // The list: reason classes and the filter.
    auto r = Curl(as(rita, {}), s.Url("/v1/deadletters?reason=missing_field"));
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(R"("reason_class":"missing_field")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("replay":null)"), std::string::npos) << r.body;
    r = Curl(as(rita, {}), s.Url("/v1/deadletters?reason=too_large"));
    EXPECT_EQ(r.body, R"({"dead_letters":[],"next_cursor":null})");
    r = Curl(as(rita, {}), s.Url("/v1/deadletters?reason=bogus"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body,
              R"({"error":{"code":"bad_request","message":"reason=bogus: reason class 'bogus' is )"
              R"(not one of: invalid_json, missing_key, missing_field, type_mismatch, too_large, )"
              R"(schema, wire_format, other"}})");
    // A reader may not replay.
    r = Curl(as(rita, {"-X", "POST", "-d", body}), url);
    EXPECT_EQ(r.status, 403) << r.body;
    // An unknown source letter: 400, nothing replayed.
    r = Curl(as(olga, {"-X", "POST", "-d", body}), url);
    EXPECT_EQ(r.status, 400) << r.body;
    // dry_run: the same result, marked, and nothing written (the letter is still replayable).
    r = Curl(as(olga, {"-X", "POST", "-d", fmt::format(R"({{"ids":["{}"],"dry_run":true}})", two)}),
             url);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, fmt::format(R"({{"results":[{{"id":"{}","outcome":"stored","key":"{}"}}],)"
                                  R"("dry_run":true}})",
                                  two, Uuid(2)));
    r = Curl(as(olga, {"-X", "POST", "-d", fmt::format(R"({{"ids":["{}"],"dry_run":1}})", two)}),
             url);
    EXPECT_EQ(r.status, 400) << r.body;
    r = Curl(as(olga, {"-X", "POST", "-d", fmt::format(R"({{"ids":["{}"]}})", two)}), url);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, fmt::format(R"({{"results":[{{"id":"{}","outcome":"stored","key":"{}"}}]}})",
                                  two, Uuid(2)));
    r = Curl(as(olga, {"-X", "POST", "-d", fmt::format(R"({{"ids":["{}"]}})", two)}), url);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(R"("outcome":"refused","reason":"already replayed at )"),
              std::string::npos)
        << r.body;
    r = Curl(as(rita, {}), s.Url("/v1/deadletters?stage=process"));
    EXPECT_NE(r.body.find(fmt::format(R"("replay":{{"at_us":)")), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(fmt::format(R"("outcome":"stored","key":"{}"}})", Uuid(2))),
              std::string::npos)
        << r.body;
    r = Curl(as(rita, {}), s.Url("/v1/status"));
    EXPECT_NE(r.body.find(R"("fetched":3,"staged":3,"streamed":3,"stored":2,"dead_lettered":1,)"),
              std::string::npos)
        << r.body;
    s.Stop();
  }
  std::string audit = ReadFile(data_ + "/audit.log");
  for (const std::string who :
       {"\"who\":\"olga\",\"role\":\"admin\"", "\"who\":\"rita\",\"role\":\"reader\""}) {
    std::string result = who.find("olga") != std::string::npos ? "200" : "403";
    bool found = false;
    for (const auto& line : SplitLines(audit)) {
      found |= line.find(who) != std::string::npos &&
               line.ends_with(R"("from":"127.0.0.1","action":"POST /v1/deadletters/replay",)"
                              R"("result":)" +
                              result + "}");
    }
    EXPECT_TRUE(found) << who << " " << result << "\n" << audit;
  }
  // `run --http-port` replays into the running pipeline's store. The built-in source never
  // ends, so the run holds the data dir until it is stopped (the same fixed mapping).
  WriteFile(config_,
            "dags: {}\nsource:\n  url: \"\"\n  results_per_page: 5\n  rate_limit_per_sec: 2\n" +
                PipelineYaml(capture_, true).substr(PipelineYaml(capture_, true).find("process:")));
  const std::string three_body = fmt::format(R"({{"ids":["{}"]}})", three);
  ServeProcess run(
      {"run", "--no-progress", "--http-port", "0", "--config", config_, "--data-dir", data_});
  ASSERT_TRUE(run.up());
  auto r = Curl({"-H", "Authorization: Bearer " + olga, "-X", "POST", "-d", three_body},
                run.Url("/v1/deadletters/replay"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, fmt::format(R"({{"results":[{{"id":"{}","outcome":"stored","key":"{}"}}]}})",
                                three, Uuid(3)));
  // `serve` next to the running pipeline serves its store read-only: 409 naming run --http-port.
  {
    ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_});
    ASSERT_TRUE(s.up());
    r = Curl({"-H", "Authorization: Bearer " + olga, "-X", "POST", "-d", three_body},
             s.Url("/v1/deadletters/replay"));
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_NE(r.body.find("use `dataforge run --http-port`"), std::string::npos) << r.body;
    // The CLI says the same, with the curl to use.
    auto cli = Df({"deadletter", "replay", three});
    EXPECT_EQ(cli.exit_code, 1);
    EXPECT_NE(cli.err.find("`dataforge run --http-port PORT`: curl -X POST "
                           "http://127.0.0.1:PORT/v1/deadletters/replay"),
              std::string::npos)
        << cli.err;
    EXPECT_EQ(SplitLines(cli.err).size(), 1u) << cli.err;
  }
  auto done = run.Stop();
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_EQ(Row(Uuid(3)),
            fmt::format(R"({{"id":"{}","email":"p3@example.com","age":33}})", Uuid(3)) + "\n");
  auto st = Df({"status", "--json"});
  EXPECT_NE(st.out.find(R"("dead_lettered_process":0,)"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find(R"("balanced":true)"), std::string::npos) << st.out;
}

// The same promises with the Cassandra store (the endpoint `dataforge cql-serve` serves): the
// marker lives in dataforge_replays, the counters come from the markers.
TEST_F(ReplayTest, CassandraStoreReplaysALetterOnce) {
  CqlEndpoint cql(dir_.Sub("cql"));
  ASSERT_NE(cql.port(), 0);
  const std::string store = cql.url() + "/replay_ks";
  WriteFile(capture_, "{\"results\":[" + Person(1, R"({"age":30})") + "," +
                          Person(2, R"({"years":31})") + "]}");
  WriteFile(config_, PipelineYaml(capture_, false) + "store:\n  url: " + store + "\n");
  auto r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteFile(config_, PipelineYaml(capture_, true) + "store:\n  url: " + store + "\n");
  auto letters = DeadLetters(data_, {"--config", config_});
  ASSERT_EQ(letters.size(), 1u);
  const std::string two = LetterOf(letters, Uuid(2));
  r = Df({"deadletter", "replay", two});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{}: stored key {}\nstored 1, dead-lettered again 0, refused 0 (of "
                               "1 letter)\n",
                               two, Uuid(2)));
  EXPECT_EQ(Row(Uuid(2)),
            fmt::format(R"({{"id":"{}","email":"p2@example.com","age":31}})", Uuid(2)) + "\n");
  r = Df({"deadletter", "replay", two});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.starts_with(two + ": refused: already replayed at ")) << r.out;
  auto st = Df({"status", "--json"});
  EXPECT_NE(st.out.find(R"("fetched":2,"staged":2,"streamed":2,"stored":2,"dead_lettered":0,)"),
            std::string::npos)
      << st.out;
  EXPECT_NE(st.out.find(R"("balanced":true)"), std::string::npos) << st.out;
  letters = DeadLetters(data_, {"--config", config_});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(JsonField(letters[0], "replay.outcome"), "stored") << letters[0];
}

TEST_F(ReplayTest, KilledMidReplayThenReplayedAgainStoresEveryLetterOnce) {
  constexpr int kLetters = 1500;
  std::string records = Person(0, R"({"age":1})");
  for (int i = 1; i <= kLetters; ++i)
    records += "," + Person(i, fmt::format(R"({{"years":{}}})", i));
  RunThenFix(records);
  StatusJson before = Status(data_, {"--config", config_});
  ASSERT_EQ(before.stored, 1);
  ASSERT_EQ(before.dead_lettered, kLetters);
  ChildProcess replay =
      StartDataforge({"deadletter", "replay", "--all", "--config", config_, "--data-dir", data_});
  // Killed as soon as it has printed 50 letters (each line follows its durable replay; stdout
  // to a pipe comes in blocks of many lines), so it is mid-way: most letters are left.
  ASSERT_TRUE(WaitFor([&] { return SplitLines(replay.Stdout()).size() >= 50; }, 120));
  replay.Signal(SIGKILL);
  (void)replay.Wait(60000);
  int64_t stored_at_kill = StoredNow(data_, {"--config", config_});
  ASSERT_GT(stored_at_kill, 50);  // the row written before the replays, and 50 or more
  ASSERT_LT(stored_at_kill, kLetters + 1) << "the replay finished before it was killed";

  auto again = Df({"deadletter", "replay", "--all"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(SplitLines(again.out).back(),
            fmt::format("stored {}, dead-lettered again 0, refused 0 (of {} letters)",
                        kLetters + 1 - stored_at_kill, kLetters + 1 - stored_at_kill));
  auto st = Df({"status", "--json"});
  EXPECT_NE(st.out.find(fmt::format(R"("fetched":{},"staged":{},"streamed":{},"stored":{},)"
                                    R"("dead_lettered":0,)",
                                    kLetters + 1, kLetters + 1, kLetters + 1, kLetters + 1)),
            std::string::npos)
      << st.out;
  EXPECT_NE(st.out.find(R"("balanced":true)"), std::string::npos) << st.out;
  auto ids = ScanIds(data_, {"--config", config_});
  EXPECT_EQ(ids.size(), static_cast<size_t>(kLetters + 1));
  EXPECT_EQ(Row(Uuid(777)),
            fmt::format(R"({{"id":"{}","email":"p777@example.com","age":777}})", Uuid(777)) + "\n");
  // Nothing left: --all finds no letter to replay.
  auto none = Df({"deadletter", "replay", "--all"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "stored 0, dead-lettered again 0, refused 0 (of 0 letters)\n");
}

}  // namespace
}  // namespace dataforge::testing
