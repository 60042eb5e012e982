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

// The generator appends with these rather than fmt::format_to(std::back_inserter(...)), whose
// per-call format parsing and per-character appends were most of its cost; the bytes are the
// same (user_generator_test pins them).
void AppendUint(std::string* out, uint64_t v) {
  fmt::format_int f(v);
  out->append(f.data(), f.size());
}

// `v` in exactly `width` digits, zero-padded. REQUIRES: v < 10^width, width <= 4.
void AppendPadded(std::string* out, unsigned v, int width) {
  char buf[4];
  for (int i = width - 1; i >= 0; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
  out->append(buf, static_cast<size_t>(width));
}

// `v` / 1000 with four decimals, as "{:.4f}" printed the double v / 1000.0 (a double within
// an ulp of a multiple of 0.001 rounds to it at four decimals): "-26.5920", "0.0010".
void AppendThousandths(std::string* out, int64_t v) {
  if (v < 0) out->push_back('-');
  uint64_t a = v < 0 ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
  AppendUint(out, a / 1000);
  out->push_back('.');
  AppendPadded(out, static_cast<unsigned>(a % 1000), 3);
  out->push_back('0');
}

void Hex(std::string* out, Rng& rng, int n) {
  char buf[64];
  for (int i = 0; i < n; i += 16) {
    uint64_t v = rng.Next();
    for (int k = 0; k < 16 && i + k < n; ++k, v >>= 4) buf[i + k] = kHex[v & 15];
  }
  out->append(buf, static_cast<size_t>(n));
}

void Pattern(std::string* out, Rng& rng, std::string_view pattern) {
  size_t at = out->size();
  out->append(pattern);
  for (size_t i = at; i < out->size(); ++i) {
    if ((*out)[i] == '#') (*out)[i] = static_cast<char>('0' + rng.Below(10));
  }
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
  if (y >= 0 && y <= 9999) {
    AppendPadded(out, static_cast<unsigned>(y), 4);
    out->push_back('-');
    AppendPadded(out, m, 2);
    out->push_back('-');
    AppendPadded(out, d, 2);
    out->push_back('T');
    AppendPadded(out, static_cast<unsigned>(rem / 3600), 2);
    out->push_back(':');
    AppendPadded(out, static_cast<unsigned>(rem / 60 % 60), 2);
    out->push_back(':');
    AppendPadded(out, static_cast<unsigned>(rem % 60), 2);
    out->push_back('.');
    AppendPadded(out, static_cast<unsigned>(ms), 3);
    out->push_back('Z');
  } else {
    fmt::format_to(std::back_inserter(*out), "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", y,
                   m, d, rem / 3600, rem / 60 % 60, rem % 60, ms);
  }
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
    out->append("{\"title\":\"");
    out->append(title);
    out->append("\",\"first\":");
    AppendJsonString(out, first.shown);
    out->append(",\"last\":");
    AppendJsonString(out, last.shown);
    out->push_back('}');
  }
  if (field("location")) {
    out->append("{\"street\":{\"number\":");
    AppendUint(out, 1 + rng.Below(9999));
    out->append(",\"name\":");
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
        AppendUint(out, 10000 + rng.Below(89999));
        break;
      case PostcodeKind::kInt4:
        AppendUint(out, 1000 + rng.Below(8999));
        break;
      case PostcodeKind::kDigits4String:
        out->push_back('"');
        AppendPadded(out, rng.Below(10000), 4);
        out->push_back('"');
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
    // Drawn in the order gcc evaluated the arguments of the fmt call this replaced (right to
    // left), so that every seed keeps its users.
    std::string_view timezone = kTimezones[rng.Below(8)];
    uint32_t longitude = rng.Below(360000);
    uint32_t latitude = rng.Below(180000);
    out->append(",\"coordinates\":{\"latitude\":\"");
    AppendThousandths(out, static_cast<int64_t>(latitude) - 90'000);
    out->append("\",\"longitude\":\"");
    AppendThousandths(out, static_cast<int64_t>(longitude) - 180'000);
    out->append("\"},\"timezone\":{");
    out->append(timezone);
    out->append("}}");
  }
  if (field("email")) {
    out->push_back('"');
    out->append(first.ascii);
    out->push_back('.');
    out->append(last.ascii);
    out->append("@example.com\"");
  }
  if (field("login")) {
    out->append("{\"uuid\":\"");
    std::string hex;
    Hex(&hex, rng, 32);
    hex[12] = '4';
    hex[16] = kHex[8 + (hex[16] & 3)];
    std::string_view h(hex);
    out->append(h.substr(0, 8));
    out->push_back('-');
    out->append(h.substr(8, 4));
    out->push_back('-');
    out->append(h.substr(12, 4));
    out->push_back('-');
    out->append(h.substr(16, 4));
    out->push_back('-');
    out->append(h.substr(20, 12));
    // Drawn right to left, as gcc evaluated the arguments of the fmt call this replaced.
    std::string_view password = kPasswords[rng.Below(10)];
    uint32_t number = 100 + rng.Below(900);
    std::string_view animal = kAnimals[rng.Below(18)];
    std::string_view adjective = kAdjectives[rng.Below(18)];
    out->append("\",\"username\":\"");
    out->append(adjective);
    out->append(animal);
    AppendUint(out, number);
    out->append("\",\"password\":\"");
    out->append(password);
    out->append("\",\"salt\":\"");
    char salt[8];
    for (char& c : salt) c = kAlnum[rng.Below(62)];
    out->append(salt, sizeof salt);
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
    out->append("\",\"age\":");
    AppendUint(out, static_cast<uint64_t>(dob_age));
    out->push_back('}');
  }
  if (field("registered")) {
    out->append("{\"date\":\"");
    Date(out, rng, 31556952ll, 20ll * 31556952, &reg_age);
    out->append("\",\"age\":");
    AppendUint(out, static_cast<uint64_t>(reg_age));
    out->push_back('}');
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
      out->append("{\"name\":\"");
      out->append(nat.id_name);
      out->append("\",\"value\":\"");
      Pattern(out, rng, "###-##-####");
      out->append("\"}");
    }
  }
  if (field("picture")) {
    const char* who = male ? "men" : "women";
    unsigned n = rng.Below(100);
    fmt::format_int number(n);
    std::string_view file(number.data(), number.size());
    out->append("{\"large\":\"https://randomuser.me/api/portraits/");
    out->append(who);
    out->push_back('/');
    out->append(file);
    out->append(".jpg\",\"medium\":\"https://randomuser.me/api/portraits/med/");
    out->append(who);
    out->push_back('/');
    out->append(file);
    out->append(".jpg\",\"thumbnail\":\"https://randomuser.me/api/portraits/thumb/");
    out->append(who);
    out->push_back('/');
    out->append(file);
    out->append(".jpg\"}");
  }
  if (field("nat")) {
    out->push_back('"');
    out->append(nat.code);
    out->push_back('"');
  }
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
