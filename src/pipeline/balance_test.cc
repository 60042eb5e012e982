// The balance line of the run summary and `status`, and when a bounded run fails for it.
#include <gtest/gtest.h>

#include "pipeline/pipeline.h"

namespace dataforge {
namespace {

RunTotals Totals(uint64_t fetched, uint64_t stored, uint64_t dead, uint64_t lost) {
  RunTotals t;
  t.fetched = fetched;
  t.stored = stored;
  t.dead_lettered = dead;
  t.lost = lost;
  return t;
}

TEST(BalanceTest, SaysWhatIsInFlightAndWhatIsUnaccountedFor) {
  EXPECT_EQ(BalanceLine(Totals(100, 90, 4, 6), 0), "stored + dead-lettered + lost == fetched: yes");
  EXPECT_EQ(BalanceLine(Totals(100, 90, 4, 0), 6),
            "stored + dead-lettered + lost == fetched: no (90 + 4 + 0 != 100; 6 still in flight)");
  EXPECT_EQ(BalanceLine(Totals(100, 90, 4, 0), 0),
            "stored + dead-lettered + lost == fetched: no (90 + 4 + 0 != 100; nothing is in "
            "flight: 6 records are unaccounted for)");
  EXPECT_EQ(BalanceLine(Totals(100, 90, 4, 0), 2),
            "stored + dead-lettered + lost == fetched: no (90 + 4 + 0 != 100; 2 still in flight, "
            "4 unaccounted for)");
}

// Records process.where dropped are the fourth outcome: the line names them once there are any.
TEST(BalanceTest, FilteredRecordsAreTheFourthOutcome) {
  RunTotals t = Totals(100, 80, 4, 6);
  t.filtered = 10;
  EXPECT_EQ(BalanceLine(t, 0), "stored + dead-lettered + lost + filtered == fetched: yes");
  t.filtered = 7;
  EXPECT_EQ(BalanceLine(t, 3),
            "stored + dead-lettered + lost + filtered == fetched: no (80 + 4 + 6 + 7 != 100; 3 "
            "still in flight)");
  RunSummary s;
  s.role = PipelineRole::kAll;
  s.bounded = true;
  s.total = Totals(100, 80, 4, 6);
  s.total.filtered = 10;
  EXPECT_EQ(BoundedRunProblem(s), "");  // accounted for: nothing missing
  s.total.filtered = 0;
  EXPECT_EQ(BoundedRunProblem(s).rfind("10 fetched records are neither stored", 0), 0u);
}

TEST(BalanceTest, ABoundedRunFailsWhenItLostRecordsOrCannotAccountForThem) {
  RunSummary s;
  s.role = PipelineRole::kAll;
  s.bounded = true;
  s.total = Totals(100, 94, 0, 6);
  s.run.lost = 6;
  EXPECT_EQ(BoundedRunProblem(s),
            "6 records were lost: the log deleted them before they were processed (see the error "
            "for each range above)");
  s.run.lost = 0;  // lost in an earlier run: this one balances
  EXPECT_EQ(BoundedRunProblem(s), "");
  s.total = Totals(100, 94, 0, 0);
  EXPECT_EQ(BoundedRunProblem(s).rfind("6 fetched records are neither stored, dead-lettered nor "
                                       "counted lost, and nothing is in flight",
                                       0),
            0u);
  s.in_flight = 6;  // not drained yet: not this check's business
  EXPECT_EQ(BoundedRunProblem(s), "");
  s.in_flight = 0;
  s.bounded = false;  // stopped by a signal
  EXPECT_EQ(BoundedRunProblem(s), "");
  s.bounded = true;
  s.role = PipelineRole::kIngest;
  EXPECT_EQ(BoundedRunProblem(s), "");
}

}  // namespace
}  // namespace dataforge
