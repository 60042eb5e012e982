// The process-wide backend client counters (common/client_counters.h; exported as
// dataforge_client_errors_total / dataforge_client_reconnects_total) against real servers: a
// PostgreSQL server killed and restarted under a PgSession, a Kafka broker taken down and
// brought back under a KafkaLog.
#include <gtest/gtest.h>

#include <span>
#include <thread>

#include "common/client_counters.h"
#include "common/clock.h"
#include "integration/kafka_cluster.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"
#include "log/log.h"
#include "pg/pg_session.h"

namespace dataforge::testing {
namespace {

TEST(ClientCountersTest, PostgresqlKilledAndRestartedIsOneErrorAndOneReconnect) {
  PostgresServer pg;
  PgSession session(pg.Url(), "test session", Clock::Real(), 60'000'000);
  ASSERT_TRUE(session.Connect().ok());
  auto select = [&] {
    return session.Run("selecting", [](PgConnection& c, int) { return c.Exec("SELECT 1"); });
  };
  ASSERT_TRUE(select().ok());
  ClientCounters& counters = ClientCounters::Get();
  const uint64_t errors0 = counters.errors(ClientBackend::kPostgresql);
  const uint64_t reconnects0 = counters.reconnects(ClientBackend::kPostgresql);
  ASSERT_TRUE(select().ok());
  EXPECT_EQ(counters.errors(ClientBackend::kPostgresql), errors0);
  EXPECT_EQ(counters.reconnects(ClientBackend::kPostgresql), reconnects0);

  pg.Kill9();
  pg.Start();
  // The session's connection died with the server: its next statement fails once on it, then
  // the session connects again and runs it.
  Status s = select();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(counters.errors(ClientBackend::kPostgresql) - errors0, 1u);
  EXPECT_EQ(counters.reconnects(ClientBackend::kPostgresql) - reconnects0, 1u);
  ASSERT_TRUE(select().ok());
  EXPECT_EQ(counters.reconnects(ClientBackend::kPostgresql) - reconnects0, 1u);
}

TEST(ClientCountersTest, KafkaBrokerDownIsCountedAndItsReturnIsAReconnect) {
  MockKafkaCluster kafka(1, {"counted:1"});
  auto log = OpenLog(kafka.url(), OpenMode::kReadWrite, LogOptions{});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<LogRecord> batch = {{"k1", "v1", 0, {}}};
  auto first = (*log)->Append("counted", 0, std::span<const LogRecord>(batch));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ClientCounters& counters = ClientCounters::Get();
  const uint64_t errors0 = counters.errors(ClientBackend::kKafka);
  const uint64_t reconnects0 = counters.reconnects(ClientBackend::kKafka);

  kafka.Command("down 1");
  // An append while the broker is down: the producer (polled while it waits for the
  // acknowledgement) hears from librdkafka that the broker is unreachable; the append waits.
  Result<int64_t> second = Status::Internal("not appended");
  std::thread append([&] {
    std::vector<LogRecord> more = {{"k2", "v2", 0, {}}};
    second = (*log)->Append("counted", 0, std::span<const LogRecord>(more));
  });
  EXPECT_TRUE(WaitFor([&] { return counters.errors(ClientBackend::kKafka) > errors0; }, 30));
  EXPECT_EQ(counters.reconnects(ClientBackend::kKafka), reconnects0);
  kafka.Command("up 1");
  append.join();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, *first + 1);
  // The producer's first delivery after the outage: one reconnect (the only handle that wrote).
  EXPECT_EQ(counters.reconnects(ClientBackend::kKafka) - reconnects0, 1u);
}

}  // namespace
}  // namespace dataforge::testing
