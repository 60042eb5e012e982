// Request bodies and the simple responses of the CQL native protocol v4 (messages.h; spec
// section 4.1 and 4.2.1-4.2.4). RESULT, ERROR and EVENT bodies are in result_messages.cc.
#include "cql/messages.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace dataforge::cql {
namespace {

constexpr const char* kConsistencyNames[] = {
    "ANY",          "ONE",         "TWO",    "THREE",        "QUORUM",    "ALL",
    "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
};
constexpr uint8_t kKnownQueryFlags = 0x7F;
constexpr uint8_t kBatchSerialConsistency = 0x10;
constexpr uint8_t kBatchDefaultTimestamp = 0x20;
constexpr uint8_t kBatchValueNames = 0x40;
constexpr uint8_t kKnownBatchFlags = 0x70;

Consistency ReadConsistency(WireReader* r, const char* what) {
  const size_t at = r->position();
  const uint16_t v = r->Short();
  if (r->ok() && v > static_cast<uint16_t>(Consistency::kLocalOne)) {
    r->Fail(fmt::format("unknown {} 0x{:04x} at byte {}", what, v, at));
  }
  return static_cast<Consistency>(v);
}

// Reads `n` [value]s (with a [string] name before each when `names`), bounded by the bytes
// left: each value needs at least its [int] length.
void ReadValues(WireReader* r, size_t count_at, uint16_t n, bool names, std::vector<Value>* values,
                std::vector<std::string>* value_names) {
  if (!r->ok()) return;
  if (size_t{n} * (names ? 6 : 4) > r->remaining()) {
    r->Fail(fmt::format("value count {} at byte {} exceeds the {} bytes left", n, count_at,
                        r->remaining()));
    return;
  }
  values->reserve(n);
  for (uint16_t i = 0; i < n && r->ok(); ++i) {
    if (names) value_names->push_back(r->String());
    values->push_back(r->ValueBytes());
  }
}

}  // namespace

std::string ConsistencyName(Consistency c) {
  const auto v = static_cast<uint16_t>(c);
  if (v <= static_cast<uint16_t>(Consistency::kLocalOne)) return kConsistencyNames[v];
  return fmt::format("consistency 0x{:04x}", v);
}

std::optional<Consistency> ParseConsistency(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (uint16_t v = 0; v <= static_cast<uint16_t>(Consistency::kLocalOne); ++v) {
    if (upper == kConsistencyNames[v]) return static_cast<Consistency>(v);
  }
  return std::nullopt;
}

// --- STARTUP, AUTH_*, REGISTER, SUPPORTED, AUTHENTICATE ---

void EncodeStartup(const StartupMessage& m, std::string* body) {
  WireWriter(body).StringMap(m.options);
}

Result<StartupMessage> DecodeStartup(std::string_view body) {
  WireReader r(body);
  StartupMessage m;
  m.options = r.StringMap();
  return FinishBody(r, "STARTUP", std::move(m));
}

std::string EncodeAuthToken(const std::optional<std::string>& token) {
  std::string body;
  WireWriter(&body).Bytes(token);
  return body;
}

Result<std::optional<std::string>> DecodeAuthToken(std::string_view body) {
  WireReader r(body);
  std::optional<std::string> token = r.Bytes();
  return FinishBody(r, "AUTH token", std::move(token));
}

std::string PlainAuthToken(std::string_view user, std::string_view password) {
  std::string token;
  token.push_back('\0');
  token.append(user);
  token.push_back('\0');
  token.append(password);
  return token;
}

std::optional<std::pair<std::string, std::string>> ParsePlainAuthToken(std::string_view token) {
  const size_t first = token.find('\0');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = token.find('\0', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  return std::make_pair(std::string(token.substr(first + 1, second - first - 1)),
                        std::string(token.substr(second + 1)));
}

Result<std::vector<std::string>> DecodeRegister(std::string_view body) {
  WireReader r(body);
  std::vector<std::string> events = r.StringList();
  return FinishBody(r, "REGISTER", std::move(events));
}

void EncodeRegister(const std::vector<std::string>& events, std::string* body) {
  WireWriter(body).StringList(events);
}

void EncodeSupported(const std::vector<std::pair<std::string, std::vector<std::string>>>& m,
                     std::string* body) {
  WireWriter(body).StringMultimap(m);
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> DecodeSupported(
    std::string_view body) {
  WireReader r(body);
  auto m = r.StringMultimap();
  return FinishBody(r, "SUPPORTED", std::move(m));
}

void EncodeAuthenticate(std::string_view authenticator, std::string* body) {
  WireWriter(body).String(authenticator);
}

Result<std::string> DecodeAuthenticate(std::string_view body) {
  WireReader r(body);
  std::string name = r.String();
  return FinishBody(r, "AUTHENTICATE", std::move(name));
}

// --- QUERY, PREPARE, EXECUTE ---

void EncodeQueryParameters(const QueryParameters& p, WireWriter* w) {
  uint8_t flags = 0;
  if (!p.values.empty()) flags |= kQueryValues;
  if (!p.values.empty() && !p.value_names.empty()) flags |= kQueryValueNames;
  if (p.skip_metadata) flags |= kQuerySkipMetadata;
  if (p.page_size) flags |= kQueryPageSize;
  if (p.paging_state) flags |= kQueryPagingState;
  if (p.serial_consistency) flags |= kQuerySerialConsistency;
  if (p.timestamp) flags |= kQueryDefaultTimestamp;
  w->Short(static_cast<uint16_t>(p.consistency));
  w->Byte(flags);
  if (flags & kQueryValues) {
    w->Short(static_cast<uint16_t>(p.values.size()));
    for (size_t i = 0; i < p.values.size(); ++i) {
      if (flags & kQueryValueNames) w->String(i < p.value_names.size() ? p.value_names[i] : "");
      w->ValueBytes(p.values[i]);
    }
  }
  if (p.page_size) w->Int(*p.page_size);
  if (p.paging_state) w->BytesView(*p.paging_state);
  if (p.serial_consistency) w->Short(static_cast<uint16_t>(*p.serial_consistency));
  if (p.timestamp) w->Long(*p.timestamp);
}

QueryParameters ReadQueryParameters(WireReader* r) {
  QueryParameters p;
  p.consistency = ReadConsistency(r, "consistency");
  const size_t flags_at = r->position();
  const uint8_t flags = r->Byte();
  if (!r->ok()) return p;
  if (flags & ~kKnownQueryFlags) {
    r->Fail(fmt::format("unknown query flags 0x{:02x} at byte {}", flags, flags_at));
    return p;
  }
  p.skip_metadata = (flags & kQuerySkipMetadata) != 0;
  if (flags & kQueryValues) {
    const size_t count_at = r->position();
    const uint16_t n = r->Short();
    ReadValues(r, count_at, n, (flags & kQueryValueNames) != 0, &p.values, &p.value_names);
  }
  if (flags & kQueryPageSize) {
    const size_t at = r->position();
    p.page_size = r->Int();
    if (r->ok() && *p.page_size <= 0) {
      r->Fail(fmt::format("page size {} at byte {} is not positive", *p.page_size, at));
    }
  }
  if (flags & kQueryPagingState) {
    p.paging_state = r->Bytes();
    if (r->ok() && !p.paging_state) p.paging_state = std::string();
  }
  if (flags & kQuerySerialConsistency) {
    p.serial_consistency = ReadConsistency(r, "serial consistency");
  }
  if (flags & kQueryDefaultTimestamp) p.timestamp = r->Long();
  return p;
}

void EncodeQuery(const QueryMessage& m, std::string* body) {
  WireWriter w(body);
  w.LongString(m.query);
  EncodeQueryParameters(m.params, &w);
}

Result<QueryMessage> DecodeQuery(std::string_view body) {
  WireReader r(body);
  QueryMessage m;
  m.query = r.LongString();
  m.params = ReadQueryParameters(&r);
  return FinishBody(r, "QUERY", std::move(m));
}

void EncodePrepare(const PrepareMessage& m, std::string* body) {
  WireWriter(body).LongString(m.query);
}

Result<PrepareMessage> DecodePrepare(std::string_view body) {
  WireReader r(body);
  PrepareMessage m;
  m.query = r.LongString();
  return FinishBody(r, "PREPARE", std::move(m));
}

void EncodeExecute(const ExecuteMessage& m, std::string* body) {
  WireWriter w(body);
  w.ShortBytes(m.id);
  EncodeQueryParameters(m.params, &w);
}

Result<ExecuteMessage> DecodeExecute(std::string_view body) {
  WireReader r(body);
  ExecuteMessage m;
  m.id = r.ShortBytes();
  m.params = ReadQueryParameters(&r);
  return FinishBody(r, "EXECUTE", std::move(m));
}

// --- BATCH ---

void EncodeBatch(const BatchMessage& m, std::string* body) {
  WireWriter w(body);
  const bool names = std::any_of(m.statements.begin(), m.statements.end(),
                                 [](const BatchStatement& s) { return !s.value_names.empty(); });
  w.Byte(static_cast<uint8_t>(m.type));
  w.Short(static_cast<uint16_t>(m.statements.size()));
  for (const BatchStatement& s : m.statements) {
    w.Byte(s.prepared ? 1 : 0);
    if (s.prepared) {
      w.ShortBytes(s.query_or_id);
    } else {
      w.LongString(s.query_or_id);
    }
    w.Short(static_cast<uint16_t>(s.values.size()));
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (names) w.String(i < s.value_names.size() ? s.value_names[i] : "");
      w.ValueBytes(s.values[i]);
    }
  }
  uint8_t flags = 0;
  if (m.serial_consistency) flags |= kBatchSerialConsistency;
  if (m.timestamp) flags |= kBatchDefaultTimestamp;
  if (names) flags |= kBatchValueNames;
  w.Short(static_cast<uint16_t>(m.consistency));
  w.Byte(flags);
  if (m.serial_consistency) w.Short(static_cast<uint16_t>(*m.serial_consistency));
  if (m.timestamp) w.Long(*m.timestamp);
}

Result<BatchMessage> DecodeBatch(std::string_view body) {
  // The names flag comes after the statements it applies to, so the statements are read
  // twice when it is set: first to find the flags, then with names.
  auto read = [body](bool names, uint8_t* flags) {
    WireReader r(body);
    BatchMessage m;
    const uint8_t type = r.Byte();
    if (r.ok() && type > static_cast<uint8_t>(BatchType::kCounter)) {
      r.Fail(fmt::format("unknown batch type {} at byte 0", type));
    }
    m.type = static_cast<BatchType>(type);
    const size_t count_at = r.position();
    const uint16_t n = r.Short();
    // Each statement is at least a kind byte, a [short bytes] and a value count: 5 bytes.
    if (r.ok() && size_t{n} * 5 > r.remaining()) {
      r.Fail(fmt::format("statement count {} at byte {} exceeds the {} bytes left", n, count_at,
                         r.remaining()));
    }
    for (uint16_t i = 0; i < n && r.ok(); ++i) {
      BatchStatement s;
      const size_t kind_at = r.position();
      const uint8_t kind = r.Byte();
      if (kind == 0) {
        s.query_or_id = r.LongString();
      } else if (kind == 1) {
        s.prepared = true;
        s.query_or_id = r.ShortBytes();
      } else if (r.ok()) {
        r.Fail(fmt::format("statement {} has unknown kind {} at byte {} (expected 0 or 1)", i, kind,
                           kind_at));
      }
      const size_t values_at = r.position();
      const uint16_t nv = r.Short();
      ReadValues(&r, values_at, nv, names, &s.values, &s.value_names);
      m.statements.push_back(std::move(s));
    }
    m.consistency = ReadConsistency(&r, "consistency");
    const size_t flags_at = r.position();
    *flags = r.Byte();
    if (r.ok() && (*flags & ~kKnownBatchFlags)) {
      r.Fail(fmt::format("unknown batch flags 0x{:02x} at byte {}", *flags, flags_at));
    }
    if (r.ok() && (*flags & kBatchSerialConsistency)) {
      m.serial_consistency = ReadConsistency(&r, "serial consistency");
    }
    if (r.ok() && (*flags & kBatchDefaultTimestamp)) m.timestamp = r.Long();
    return FinishBody(r, "BATCH", std::move(m));
  };
  uint8_t plain_flags = 0;
  Result<BatchMessage> plain = read(false, &plain_flags);
  if (plain.ok() && !(plain_flags & kBatchValueNames)) return plain;
  uint8_t named_flags = 0;
  Result<BatchMessage> named = read(true, &named_flags);
  if (named.ok() && (named_flags & kBatchValueNames)) return named;
  if (!plain.ok()) return plain.status();
  if (!named.ok()) return named.status();
  return Status::InvalidArgument(
      "BATCH body: flag 0x40 (named values) is set only when the values are read without names; "
      "the body is inconsistent");
}

}  // namespace dataforge::cql
