// The CQL native protocol's primitive notations (wire.h; native_protocol_v4.spec section 3).
#include "cql/wire.h"

#include <cstring>

#include <fmt/format.h>

namespace dataforge::cql {

void WireWriter::Byte(uint8_t v) {
  out_->push_back(static_cast<char>(v));
}

void WireWriter::Short(uint16_t v) {
  out_->push_back(static_cast<char>(v >> 8));
  out_->push_back(static_cast<char>(v & 0xFF));
}

void WireWriter::Int(int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) out_->push_back(static_cast<char>(u >> shift));
}

void WireWriter::Long(int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out_->push_back(static_cast<char>(u >> shift));
}

void WireWriter::String(std::string_view s) {
  Short(static_cast<uint16_t>(s.size()));
  Raw(s);
}

void WireWriter::LongString(std::string_view s) {
  Int(static_cast<int32_t>(s.size()));
  Raw(s);
}

void WireWriter::Bytes(const std::optional<std::string>& b) {
  if (!b) {
    Int(-1);
    return;
  }
  BytesView(*b);
}

void WireWriter::BytesView(std::string_view b) {
  Int(static_cast<int32_t>(b.size()));
  Raw(b);
}

void WireWriter::ValueBytes(const Value& v) {
  if (v.unset) {
    Int(-2);
    return;
  }
  Bytes(v.bytes);
}

void WireWriter::ShortBytes(std::string_view b) {
  Short(static_cast<uint16_t>(b.size()));
  Raw(b);
}

void WireWriter::Uuid(const uint8_t (&uuid)[16]) {
  out_->append(reinterpret_cast<const char*>(uuid), 16);
}

void WireWriter::StringList(const std::vector<std::string>& l) {
  Short(static_cast<uint16_t>(l.size()));
  for (const auto& s : l) String(s);
}

void WireWriter::StringMap(const std::vector<std::pair<std::string, std::string>>& m) {
  Short(static_cast<uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    String(k);
    String(v);
  }
}

void WireWriter::StringMultimap(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& m) {
  Short(static_cast<uint16_t>(m.size()));
  for (const auto& [k, v] : m) {
    String(k);
    StringList(v);
  }
}

void WireWriter::Inet(const std::string& address_bytes, int32_t port) {
  Byte(static_cast<uint8_t>(address_bytes.size()));
  Raw(address_bytes);
  Int(port);
}

void WireWriter::Raw(std::string_view b) {
  out_->append(b.data(), b.size());
}

void WireWriter::PatchInt(size_t pos, int32_t v) {
  const uint32_t u = static_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) (*out_)[pos + i] = static_cast<char>(u >> (24 - 8 * i));
}

// --- WireReader ---

void WireReader::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

Status WireReader::ToStatus(std::string_view context) const {
  if (ok()) return Status::OK();
  if (context.empty()) return Status::InvalidArgument(error_);
  return Status::InvalidArgument(fmt::format("{}: {}", context, error_));
}

bool WireReader::Need(size_t n, const char* what) {
  if (!ok()) return false;
  if (n > remaining()) {
    Fail(fmt::format("truncated {} at byte {} of {} (needs {} more bytes, {} left)", what, pos_,
                     in_.size(), n, remaining()));
    return false;
  }
  return true;
}

uint8_t WireReader::Byte() {
  if (!Need(1, "[byte]")) return 0;
  return static_cast<uint8_t>(in_[pos_++]);
}

uint16_t WireReader::Short() {
  if (!Need(2, "[short]")) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos_);
  pos_ += 2;
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

int32_t WireReader::Int() {
  if (!Need(4, "[int]")) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos_);
  pos_ += 4;
  const uint32_t u =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  return static_cast<int32_t>(u);
}

int64_t WireReader::Long() {
  if (!Need(8, "[long]")) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + pos_);
  pos_ += 8;
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
  return static_cast<int64_t>(u);
}

std::string WireReader::String() {
  const size_t at = pos_;
  const uint16_t n = Short();
  if (!ok()) return {};
  if (n > remaining()) {
    Fail(fmt::format("truncated [string] at byte {} of {} (length {}, {} bytes left)", at,
                     in_.size(), n, remaining()));
    return {};
  }
  return std::string(Raw(n));
}

std::string WireReader::LongString() {
  const size_t at = pos_;
  const int32_t n = Int();
  if (!ok()) return {};
  if (n < 0) {
    Fail(fmt::format("negative [long string] length {} at byte {} of {}", n, at, in_.size()));
    return {};
  }
  if (static_cast<size_t>(n) > remaining()) {
    Fail(fmt::format("truncated [long string] at byte {} of {} (length {}, {} bytes left)", at,
                     in_.size(), n, remaining()));
    return {};
  }
  return std::string(Raw(static_cast<size_t>(n)));
}

std::optional<std::string> WireReader::Bytes() {
  const size_t at = pos_;
  const int32_t n = Int();
  if (!ok()) return std::nullopt;
  if (n == -1) return std::nullopt;
  if (n < 0) {
    Fail(fmt::format("negative [bytes] length {} at byte {} of {}", n, at, in_.size()));
    return std::nullopt;
  }
  if (static_cast<size_t>(n) > remaining()) {
    Fail(fmt::format("truncated [bytes] at byte {} of {} (length {}, {} bytes left)", at,
                     in_.size(), n, remaining()));
    return std::nullopt;
  }
  return std::string(Raw(static_cast<size_t>(n)));
}

Value WireReader::ValueBytes() {
  const size_t at = pos_;
  const int32_t n = Int();
  if (!ok()) return Value::Null();
  if (n == -1) return Value::Null();
  if (n == -2) return Value::Unset();
  if (n < 0) {
    Fail(fmt::format("negative [value] length {} at byte {} of {}", n, at, in_.size()));
    return Value::Null();
  }
  if (static_cast<size_t>(n) > remaining()) {
    Fail(fmt::format("truncated [value] at byte {} of {} (length {}, {} bytes left)", at,
                     in_.size(), n, remaining()));
    return Value::Null();
  }
  return Value::Of(std::string(Raw(static_cast<size_t>(n))));
}

std::string WireReader::ShortBytes() {
  const size_t at = pos_;
  const uint16_t n = Short();
  if (!ok()) return {};
  if (n > remaining()) {
    Fail(fmt::format("truncated [short bytes] at byte {} of {} (length {}, {} bytes left)", at,
                     in_.size(), n, remaining()));
    return {};
  }
  return std::string(Raw(n));
}

bool WireReader::Uuid(uint8_t (*uuid)[16]) {
  if (!Need(16, "[uuid]")) {
    std::memset(*uuid, 0, 16);
    return false;
  }
  std::memcpy(*uuid, in_.data() + pos_, 16);
  pos_ += 16;
  return true;
}

namespace {

// A count read from the wire is bounded by what the remaining bytes can hold (each element
// needs at least `min_element_bytes`), so a huge count in a short body fails before any
// allocation.
bool CountFits(WireReader* r, size_t at, size_t count, size_t min_element_bytes, const char* what,
               size_t total) {
  if (count * min_element_bytes > r->remaining()) {
    r->Fail(fmt::format("{} count {} at byte {} of {} exceeds the {} bytes left", what, count, at,
                        total, r->remaining()));
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> WireReader::StringList() {
  const size_t at = pos_;
  const uint16_t n = Short();
  std::vector<std::string> out;
  if (!ok() || !CountFits(this, at, n, 2, "[string list]", in_.size())) return out;
  out.reserve(n);
  for (uint16_t i = 0; i < n && ok(); ++i) out.push_back(String());
  if (!ok()) out.clear();
  return out;
}

std::vector<std::pair<std::string, std::string>> WireReader::StringMap() {
  const size_t at = pos_;
  const uint16_t n = Short();
  std::vector<std::pair<std::string, std::string>> out;
  if (!ok() || !CountFits(this, at, n, 4, "[string map]", in_.size())) return out;
  out.reserve(n);
  for (uint16_t i = 0; i < n && ok(); ++i) {
    std::string k = String();
    std::string v = String();
    out.emplace_back(std::move(k), std::move(v));
  }
  if (!ok()) out.clear();
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> WireReader::StringMultimap() {
  const size_t at = pos_;
  const uint16_t n = Short();
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  if (!ok() || !CountFits(this, at, n, 4, "[string multimap]", in_.size())) return out;
  out.reserve(n);
  for (uint16_t i = 0; i < n && ok(); ++i) {
    std::string k = String();
    std::vector<std::string> v = StringList();
    out.emplace_back(std::move(k), std::move(v));
  }
  if (!ok()) out.clear();
  return out;
}

std::string_view WireReader::Raw(size_t n) {
  if (!Need(n, "bytes")) return {};
  std::string_view v = in_.substr(pos_, n);
  pos_ += n;
  return v;
}

}  // namespace dataforge::cql
