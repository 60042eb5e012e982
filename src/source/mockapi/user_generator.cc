#include "source/mockapi/user_generator.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "source/mockapi/nationality_data.h"

namespace dataforge::mockapi {
namespace {

// splitmix64: tiny, fast, well distributed; enough for test data.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }
};

uint64_t Fnv(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

constexpr std::string_view kAdjectives[] = {
    "angry", "black",  "blue",   "brown", "crazy",  "golden", "green", "happy", "heavy",
    "lazy",  "orange", "purple", "red",   "silver", "sad",    "tiny",  "white", "yellow"};
constexpr std::string_view kAnimals[] = {
    "goose", "swan",    "bear", "cat",    "dog",     "elephant", "fish",    "frog",   "gorilla",
    "koala", "leopard", "lion", "monkey", "ostrich", "panda",    "peacock", "rabbit", "tiger"};
constexpr std::string_view kPasswords[] = {"ironman", "sage",     "cwoui",   "qwerty", "sunshine",
                                           "dragon",  "trustno1", "letmein", "pepper", "shadow"};
constexpr std::string_view kTimezones[] = {
    "\"offset\":\"-10:00\",\"description\":\"Hawaii\"",
    "\"offset\":\"-5:00\",\"description\":\"Eastern Time (US & Canada), Bogota, Lima\"",
    "\"offset\":\"+0:00\",\"description\":\"Western Europe Time, London, Lisbon, Casablanca\"",
    "\"offset\":\"+1:00\",\"description\":\"Brussels, Copenhagen, Madrid, Paris\"",
    "\"offset\":\"+3:30\",\"description\":\"Tehran\"",
    "\"offset\":\"+5:30\",\"description\":\"Bombay, Calcutta, Madras, New Delhi\"",
    "\"offset\":\"+6:00\",\"description\":\"Almaty, Dhaka, Colombo\"",
    "\"offset\":\"+9:00\",\"description\":\"Tokyo, Seoul, Osaka, Sapporo, Yakutsk\""};
constexpr char kHex[] = "0123456789abcdef";
constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr int64_t kNowSeconds = 1767225600;  // 2026-01-01T00:00:00Z: ages are relative to it

void Hex(std::string* out, Rng& rng, int n) {
  for (int i = 0; i < n; i += 16) {
    uint64_t v = rng.Next();
    for (int k = 0; k < 16 && i + k < n; ++k, v >>= 4) out->push_back(kHex[v & 15]);
  }
}

void Pattern(std::string* out, Rng& rng, std::string_view pattern) {
  for (char c : pattern) out->push_back(c == '#' ? static_cast<char>('0' + rng.Below(10)) : c);
}

void Date(std::string* out, Rng& rng, int64_t min_age_s, int64_t max_age_s, int* age) {
  int64_t t =
      kNowSeconds - min_age_s -
      static_cast<int64_t>(rng.Below(static_cast<uint32_t>((max_age_s - min_age_s) / 60))) * 60 -
      rng.Below(60);
  int ms = static_cast<int>(rng.Below(1000));
  int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);  // floor, for dates before 1970
  int64_t rem = t - days * 86400;
  // civil from days (1970-based)
  int64_t z = days + 719468, era = z / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  fmt::format_to(std::back_inserter(*out), "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", y,
                 m, d, rem / 3600, rem / 60 % 60, rem % 60, ms);
  *age = static_cast<int>((kNowSeconds - t) / (365.2425 * 86400));
}

bool Wanted(const MockQuery& q, std::string_view field) {
  auto has = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), field) != v.end();
  };
  if (!q.inc.empty() && !has(q.inc)) return false;
  return !has(q.exc);
}

void AppendUser(std::string* out, const MockQuery& q, const std::vector<const Nationality*>& nats,
                uint64_t seed_hash, int index) {
  // A bijective mix of (page, index), so every user of a seed starts from its own state.
  Rng mixer{(static_cast<uint64_t>(q.page) << 32) | static_cast<uint32_t>(index)};
  Rng rng{seed_hash ^ mixer.Next()};
  const Nationality& nat = *nats[rng.Below(static_cast<uint32_t>(nats.size()))];
  bool male = q.gender.empty() ? rng.Below(2) == 0 : q.gender == "male";
  const Name& first = male ? nat.male[rng.Below(static_cast<uint32_t>(nat.male.size()))]
                           : nat.female[rng.Below(static_cast<uint32_t>(nat.female.size()))];
  const Name& last = nat.last[rng.Below(static_cast<uint32_t>(nat.last.size()))];
  const Place& place = nat.places[rng.Below(static_cast<uint32_t>(nat.places.size()))];
  bool first_field = true;
  auto field = [&](std::string_view name) {
    if (!Wanted(q, name)) return false;
    if (!first_field) out->push_back(',');
    first_field = false;
    out->push_back('"');
    out->append(name);
    out->append("\":");
    return true;
  };
  out->push_back('{');
  if (field("gender")) out->append(male ? "\"male\"" : "\"female\"");
  if (field("name")) {
    std::string_view title = nat.french_titles
                                 ? (male ? "Monsieur" : (rng.Below(2) ? "Madame" : "Mademoiselle"))
                                 : (male ? "Mr" : (rng.Below(2) ? "Ms" : "Miss"));
    fmt::format_to(std::back_inserter(*out), "{{\"title\":\"{}\",\"first\":", title);
    AppendJsonString(out, first.shown);
    out->append(",\"last\":");
    AppendJsonString(out, last.shown);
    out->push_back('}');
  }
  if (field("location")) {
    fmt::format_to(std::back_inserter(*out),
                   "{{\"street\":{{\"number\":{},\"name\":", 1 + rng.Below(9999));
    AppendJsonString(out, nat.streets[rng.Below(static_cast<uint32_t>(nat.streets.size()))]);
    out->append("},\"city\":");
    AppendJsonString(out, place.city);
    out->append(",\"state\":");
    AppendJsonString(out, place.state);
    out->append(",\"country\":");
    AppendJsonString(out, nat.country);
    out->append(",\"postcode\":");
    switch (nat.postcode) {
      case PostcodeKind::kInt5:
        fmt::format_to(std::back_inserter(*out), "{}", 10000 + rng.Below(89999));
        break;
      case PostcodeKind::kInt4:
        fmt::format_to(std::back_inserter(*out), "{}", 1000 + rng.Below(8999));
        break;
      case PostcodeKind::kDigits4String:
        fmt::format_to(std::back_inserter(*out), "\"{:04d}\"", rng.Below(10000));
        break;
      case PostcodeKind::kGb:
        fmt::format_to(std::back_inserter(*out), "\"{}{}{} {}{}{}\"", kAlnum[rng.Below(26)],
                       kAlnum[rng.Below(26)], rng.Below(99), rng.Below(10), kAlnum[rng.Below(26)],
                       kAlnum[rng.Below(26)]);
        break;
      case PostcodeKind::kCa:
        fmt::format_to(std::back_inserter(*out), "\"{}{}{} {}{}{}\"", kAlnum[rng.Below(26)],
                       rng.Below(10), kAlnum[rng.Below(26)], rng.Below(10), kAlnum[rng.Below(26)],
                       rng.Below(10));
        break;
      case PostcodeKind::kNl:
        fmt::format_to(std::back_inserter(*out), "\"{} {}{}\"", 1000 + rng.Below(8999),
                       kAlnum[rng.Below(26)], kAlnum[rng.Below(26)]);
        break;
    }
    fmt::format_to(std::back_inserter(*out),
                   ",\"coordinates\":{{\"latitude\":\"{:.4f}\",\"longitude\":\"{:.4f}\"}},"
                   "\"timezone\":{{{}}}}}",
                   static_cast<double>(rng.Below(180000)) / 1000.0 - 90.0,
                   static_cast<double>(rng.Below(360000)) / 1000.0 - 180.0,
                   kTimezones[rng.Below(8)]);
  }
  if (field("email")) {
    fmt::format_to(std::back_inserter(*out), "\"{}.{}@example.com\"", first.ascii, last.ascii);
  }
  if (field("login")) {
    out->append("{\"uuid\":\"");
    std::string hex;
    Hex(&hex, rng, 32);
    hex[12] = '4';
    hex[16] = kHex[8 + (hex[16] & 3)];
    fmt::format_to(std::back_inserter(*out), "{}-{}-{}-{}-{}", std::string_view(hex).substr(0, 8),
                   std::string_view(hex).substr(8, 4), std::string_view(hex).substr(12, 4),
                   std::string_view(hex).substr(16, 4), std::string_view(hex).substr(20, 12));
    fmt::format_to(std::back_inserter(*out),
                   "\",\"username\":\"{}{}{}\",\"password\":\"{}\",\"salt\":\"",
                   kAdjectives[rng.Below(18)], kAnimals[rng.Below(18)], 100 + rng.Below(900),
                   kPasswords[rng.Below(10)]);
    for (int i = 0; i < 8; ++i) out->push_back(kAlnum[rng.Below(62)]);
    out->append("\",\"md5\":\"");
    Hex(out, rng, 32);
    out->append("\",\"sha1\":\"");
    Hex(out, rng, 40);
    out->append("\",\"sha256\":\"");
    Hex(out, rng, 64);
    out->append("\"}");
  }
  int dob_age = 0, reg_age = 0;
  if (field("dob")) {
    out->append("{\"date\":\"");
    Date(out, rng, 20ll * 31556952, 77ll * 31556952, &dob_age);
    fmt::format_to(std::back_inserter(*out), "\",\"age\":{}}}", dob_age);
  }
  if (field("registered")) {
    out->append("{\"date\":\"");
    Date(out, rng, 31556952ll, 20ll * 31556952, &reg_age);
    fmt::format_to(std::back_inserter(*out), "\",\"age\":{}}}", reg_age);
  }
  if (field("phone")) {
    out->push_back('"');
    Pattern(out, rng, nat.phone);
    out->push_back('"');
  }
  if (field("cell")) {
    out->push_back('"');
    Pattern(out, rng, nat.phone);
    out->push_back('"');
  }
  if (field("id")) {
    if (nat.id_name.empty()) {
      out->append("{\"name\":\"\",\"value\":null}");
    } else {
      fmt::format_to(std::back_inserter(*out), "{{\"name\":\"{}\",\"value\":\"", nat.id_name);
      Pattern(out, rng, "###-##-####");
      out->append("\"}");
    }
  }
  if (field("picture")) {
    const char* who = male ? "men" : "women";
    unsigned n = rng.Below(100);
    fmt::format_to(
        std::back_inserter(*out),
        "{{\"large\":\"https://randomuser.me/api/portraits/{0}/{1}.jpg\",\"medium\":\"https://"
        "randomuser.me/api/portraits/med/{0}/{1}.jpg\",\"thumbnail\":\"https://randomuser.me/api/"
        "portraits/thumb/{0}/{1}.jpg\"}}",
        who, n);
  }
  if (field("nat")) fmt::format_to(std::back_inserter(*out), "\"{}\"", nat.code);
  out->push_back('}');
}

std::vector<std::string> SplitList(const std::string& s, bool upper) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (!isspace(static_cast<unsigned char>(c))) {
      cur.push_back(static_cast<char>(upper ? toupper(static_cast<unsigned char>(c))
                                            : tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

int LenientInt(const std::string& s, int fallback) {
  try {
    size_t used = 0;
    int v = std::stoi(s, &used);
    return used == 0 ? fallback : v;
  } catch (...) {
    return fallback;
  }
}

}  // namespace

MockQuery ParseMockQuery(const std::string& results, const std::string& seed,
                         const std::string& page, const std::string& nat, const std::string& gender,
                         const std::string& inc, const std::string& exc) {
  MockQuery q;
  q.results = std::clamp(LenientInt(results, 1), 1, 5000);
  q.seed = seed;
  q.page = std::max(1, LenientInt(page, 1));
  q.nats = SplitList(nat, true);
  std::string g = gender;
  std::transform(g.begin(), g.end(), g.begin(),
                 [](unsigned char c) { return static_cast<char>(tolower(c)); });
  q.gender = g == "male" || g == "female" ? g : "";
  q.inc = SplitList(inc, false);
  q.exc = SplitList(exc, false);
  return q;
}

std::string GenerateResponse(const MockQuery& in) {
  MockQuery q = in;
  if (q.seed.empty()) {
    std::random_device rd;
    q.seed = fmt::format("{:016x}", (static_cast<uint64_t>(rd()) << 32) | rd());
  }
  std::vector<const Nationality*> nats;
  for (const auto& n : Nationalities()) {
    if (q.nats.empty() || std::find(q.nats.begin(), q.nats.end(), n.code) != q.nats.end()) {
      nats.push_back(&n);
    }
  }
  if (nats.empty()) {  // unknown nat codes: randomuser falls back to all
    for (const auto& n : Nationalities()) nats.push_back(&n);
  }
  uint64_t seed_hash = Fnv(q.seed);
  std::string out;
  out.reserve(static_cast<size_t>(q.results) * 1300 + 128);
  out.append("{\"results\":[");
  for (int i = 0; i < q.results; ++i) {
    if (i) out.push_back(',');
    AppendUser(&out, q, nats, seed_hash, i);
  }
  out.append("],\"info\":{\"seed\":");
  AppendJsonString(&out, q.seed);
  fmt::format_to(std::back_inserter(out), ",\"results\":{},\"page\":{},\"version\":\"1.4\"}}}}",
                 q.results, q.page);
  return out;
}

}  // namespace dataforge::mockapi
