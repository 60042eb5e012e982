// Schedule: parsing of the schedule text and its boundaries.
#include "schedule/schedule.h"

#include <array>
#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "common/escape.h"
#include "schedule/cron.h"
#include "schedule/time_zone.h"

namespace dataforge {

using schedule_internal::CronSpec;
using schedule_internal::FloorDiv;

struct Schedule::Impl {
  enum class Kind { kOnce, kInterval, kCron };
  Kind kind = Kind::kOnce;
  std::string text;
  std::string time_zone;
  const date::time_zone* zone = nullptr;
  int64_t interval_us = 0;
  CronSpec cron;
};

namespace {

struct Alias {
  std::string_view name;
  std::string_view cron;
};

constexpr std::array<Alias, 8> kAliases = {{{"@hourly", "0 * * * *"},
                                            {"@daily", "0 0 * * *"},
                                            {"@midnight", "0 0 * * *"},
                                            {"@weekly", "0 0 * * 0"},
                                            {"@monthly", "0 0 1 * *"},
                                            {"@yearly", "0 0 1 1 *"},
                                            {"@annually", "0 0 1 1 *"},
                                            {"@once", ""}}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "15m", "1h30m": one token, starting with a digit and ending with a letter.
bool LooksLikeDuration(std::string_view s) {
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())) ||
      !std::isalpha(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<Schedule> Schedule::Parse(std::string_view text, std::string_view time_zone) {
  // The errors quote the text: keep them on one line.
  auto parsed = ParseText(text, time_zone);
  if (!parsed.ok()) return OneLineError(parsed.status());
  return parsed;
}

Result<Schedule> Schedule::ParseText(std::string_view text, std::string_view time_zone) {
  auto impl = std::make_unique<Impl>();
  impl->text = std::string(text);
  impl->time_zone = std::string(time_zone);
  DF_ASSIGN_OR_RETURN(impl->zone, schedule_internal::FindTimeZone(time_zone));

  std::string_view body = Trim(text);
  std::string lower = Lower(body);
  if (body.empty()) {
    return Status::InvalidArgument(
        "schedule is empty; use @once, @hourly, @daily, @weekly, @monthly, @yearly, a 5-field "
        "cron expression or 'every <duration>'");
  }
  if (body.front() == '@') {
    for (const Alias& alias : kAliases) {
      if (lower != alias.name) continue;
      if (alias.cron.empty()) return Schedule(std::move(impl));  // @once
      impl->kind = Impl::Kind::kCron;
      DF_ASSIGN_OR_RETURN(impl->cron, schedule_internal::ParseCron(alias.cron));
      return Schedule(std::move(impl));
    }
    return Status::InvalidArgument(fmt::format(
        "unknown schedule '{}'; use @once, @hourly, @daily, @weekly, @monthly, @yearly, a "
        "5-field cron expression or 'every <duration>'",
        body));
  }
  std::string_view duration;
  if (lower.starts_with("every") && body.size() > 5 &&
      std::isspace(static_cast<unsigned char>(body[5]))) {
    duration = Trim(body.substr(5));
  } else if (LooksLikeDuration(body)) {
    duration = body;
  }
  if (!duration.empty()) {
    DF_ASSIGN_OR_RETURN(impl->interval_us, ParseDuration(duration));
    if (impl->interval_us <= 0) {
      return Status::InvalidArgument(
          fmt::format("interval schedule '{}' must be longer than 0", body));
    }
    impl->kind = Impl::Kind::kInterval;
    return Schedule(std::move(impl));
  }
  impl->kind = Impl::Kind::kCron;
  DF_ASSIGN_OR_RETURN(impl->cron, schedule_internal::ParseCron(body));
  return Schedule(std::move(impl));
}

Schedule::Schedule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Schedule::Schedule(const Schedule& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Schedule& Schedule::operator=(const Schedule& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Schedule::Schedule(Schedule&&) noexcept = default;
Schedule& Schedule::operator=(Schedule&&) noexcept = default;
Schedule::~Schedule() = default;

bool Schedule::once() const {
  return impl_->kind == Impl::Kind::kOnce;
}
bool Schedule::interval() const {
  return impl_->kind == Impl::Kind::kInterval;
}
const std::string& Schedule::text() const {
  return impl_->text;
}
const std::string& Schedule::time_zone() const {
  return impl_->time_zone;
}

std::optional<int64_t> Schedule::NextAfter(int64_t t_us, int64_t anchor_us) const {
  switch (impl_->kind) {
    case Impl::Kind::kOnce:
      return std::nullopt;
    case Impl::Kind::kInterval:
      return anchor_us + (FloorDiv(t_us - anchor_us, impl_->interval_us) + 1) * impl_->interval_us;
    case Impl::Kind::kCron:
      return schedule_internal::CronNextAfter(impl_->cron, impl_->zone, t_us);
  }
  return std::nullopt;
}

std::optional<int64_t> Schedule::LastAtOrBefore(int64_t t_us, int64_t anchor_us) const {
  switch (impl_->kind) {
    case Impl::Kind::kOnce:
      return std::nullopt;
    case Impl::Kind::kInterval:
      return anchor_us + FloorDiv(t_us - anchor_us, impl_->interval_us) * impl_->interval_us;
    case Impl::Kind::kCron:
      return schedule_internal::CronLastAtOrBefore(impl_->cron, impl_->zone, t_us);
  }
  return std::nullopt;
}

}  // namespace dataforge
