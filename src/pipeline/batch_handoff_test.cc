#include "pipeline/batch_handoff.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace dataforge {
namespace {

SourceBatch Batch(const std::string& position) {
  SourceBatch b;
  b.records.push_back({"k-" + position, "{}", 1});
  b.position = position;
  return b;
}

TEST(BatchHandoffTest, BatchesComeOutInOrderAndTheEndAfterTheLast) {
  BatchHandoff handoff;
  std::stop_source stop;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(handoff.Put(Batch(std::to_string(i)), stop.get_token()));
    handoff.Finish();
  });
  std::vector<std::string> got;
  while (auto b = handoff.Take(stop.get_token())) got.push_back(b->position);
  producer.join();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], std::to_string(i));
}

TEST(BatchHandoffTest, PutWaitsForTheSlotAndFailsOnceTheConsumerClosed) {
  BatchHandoff handoff;
  std::stop_source stop;
  ASSERT_TRUE(handoff.Put(Batch("0"), stop.get_token()));
  bool second = true;
  std::thread producer([&] { second = handoff.Put(Batch("1"), stop.get_token()); });
  handoff.Close();  // the consumer stops: the waiting Put gives its batch up
  producer.join();
  EXPECT_FALSE(second);
  EXPECT_FALSE(handoff.Put(Batch("2"), stop.get_token()));
}

TEST(BatchHandoffTest, AStopEndsBothWaits) {
  BatchHandoff handoff;
  std::stop_source stop;
  std::optional<SourceBatch> taken = Batch("not taken");
  std::thread consumer([&] { taken = handoff.Take(stop.get_token()); });  // nothing to take
  stop.request_stop();
  consumer.join();
  EXPECT_FALSE(taken.has_value());

  BatchHandoff full;
  std::stop_source stop2;
  ASSERT_TRUE(full.Put(Batch("0"), stop2.get_token()));
  bool put = true;
  std::thread producer([&] { put = full.Put(Batch("1"), stop2.get_token()); });  // slot full
  stop2.request_stop();
  producer.join();
  EXPECT_FALSE(put);
}

}  // namespace
}  // namespace dataforge
