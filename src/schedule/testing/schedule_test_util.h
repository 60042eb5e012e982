// Helpers shared by the schedule module's tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

#include "schedule/schedule.h"

namespace dataforge {

// "2026-01-31T10:00" (UTC unless the text has an offset) -> microseconds; fails the test on
// bad text.
inline int64_t At(std::string_view text) {
  auto t = ParseDateTime(text, "UTC");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : 0;
}

// The schedule `text` in `tz`; fails the test if it does not parse.
inline Schedule MustParse(std::string_view text, std::string_view tz = "UTC") {
  auto s = Schedule::Parse(text, tz);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return *std::move(s);
}

}  // namespace dataforge
