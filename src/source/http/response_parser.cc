#include "source/http/response_parser.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/escape.h"
#include "common/uuid.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <fmt/format.h>

namespace dataforge {
namespace {

constexpr size_t kMaxPayload = 64 * 1024;

std::string Truncated(const std::string& body) {
  return body.size() <= kMaxPayload ? body : body.substr(0, kMaxPayload);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// `i` at a string's opening quote: the index after its closing quote (s.size() if none).
size_t SkipString(std::string_view s, size_t i) {
  const size_t start = i + 1;
  size_t from = start;
  while (from < s.size()) {
    const void* q = std::memchr(s.data() + from, '"', s.size() - from);
    if (q == nullptr) break;
    size_t at = static_cast<size_t>(static_cast<const char*>(q) - s.data());
    size_t backslashes = 0;
    while (at - backslashes > start && s[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at + 1;
    from = at + 1;
  }
  return s.size();
}

// The bytes a container scan stops at, as bit masks of a 32-byte block (bit k = byte k).
struct BlockMasks {
  uint32_t quote = 0, backslash = 0, open = 0, close = 0;
  uint32_t space = 0;  // bytes <= 0x20: outside strings, valid JSON has only whitespace there
};
constexpr size_t kBlock = 32;

#if defined(__SSE2__)
BlockMasks Classify(const char* p) {
  BlockMasks b;
  for (int half = 0; half < 2; ++half) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * half));
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));  // '[' -> '{', ']' -> '}'
    auto mask = [&](__m128i m) {
      return static_cast<uint32_t>(_mm_movemask_epi8(m)) << (16 * half);
    };
    b.quote |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    b.backslash |= mask(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    b.open |= mask(_mm_cmpeq_epi8(folded, _mm_set1_epi8('{')));
    b.close |= mask(_mm_cmpeq_epi8(folded, _mm_set1_epi8('}')));
    b.space |= mask(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v));
  }
  return b;
}
#else
BlockMasks Classify(const char* p) {
  BlockMasks b;
  for (uint32_t k = 0; k < kBlock; ++k) {
    const uint32_t bit = 1u << k;
    const auto c = static_cast<unsigned char>(p[k]);
    if (c == '"') b.quote |= bit;
    if (c == '\\') b.backslash |= bit;
    if (c == '{' || c == '[') b.open |= bit;
    if (c == '}' || c == ']') b.close |= bit;
    if (c <= 0x20) b.space |= bit;
  }
  return b;
}
#endif

// Bit k set when an odd number of bits at or below k are set in `x`: with a block's quotes, the
// bytes inside strings (an opening quote counts as inside, a closing one not).
uint32_t PrefixXor(uint32_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  return x;
}

// `i` at a '{' or '[': the index after its matching close (s.size() if none); *space is set
// when whitespace separates its tokens. REQUIRES: the value is valid JSON (a backslash is only
// ever inside a string). 32 bytes at a time: which bytes are inside strings follows from the
// block's unescaped quotes; only brackets outside strings are then looked at one by one.
size_t SkipContainer(std::string_view s, size_t i, bool* space) {
  int depth = 0;
  uint32_t in_string = 0;     // all ones when the previous block ended inside a string
  bool escape_first = false;  // the previous block ended in an escaping backslash
  char tail[kBlock];
  for (size_t at = i; at < s.size(); at += kBlock) {
    const char* p = s.data() + at;
    if (s.size() - at < kBlock) {
      std::memset(tail, 'x', sizeof tail);  // no byte the scan stops at
      std::memcpy(tail, p, s.size() - at);
      p = tail;
    }
    const BlockMasks b = Classify(p);
    uint32_t quote = b.quote;
    if (b.backslash != 0 || escape_first) {
      // The bytes a backslash escapes: its quote is data, its backslash escapes nothing.
      uint32_t escaped = escape_first ? 1u : 0u;
      uint32_t backslashes = b.backslash & ~escaped;
      escape_first = false;
      while (backslashes != 0) {
        const int k = __builtin_ctz(backslashes);
        backslashes &= backslashes - 1;
        if (k == kBlock - 1) {
          escape_first = true;
        } else {
          escaped |= 2u << k;
          backslashes &= ~(2u << k);
        }
      }
      quote &= ~escaped;
    }
    const uint32_t inside = PrefixXor(quote) ^ in_string;
    in_string = (inside >> 31) != 0 ? ~0u : 0u;
    const uint32_t blank = b.space & ~inside;
    uint32_t brackets = (b.open | b.close) & ~inside;
    while (brackets != 0) {
      const int k = __builtin_ctz(brackets);
      brackets &= brackets - 1;
      if ((b.open >> k) & 1) {
        ++depth;
      } else if (--depth == 0) {
        if ((blank & ((1u << k) - 1)) != 0) *space = true;
        return at + static_cast<size_t>(k) + 1;
      }
    }
    if (blank != 0) *space = true;
  }
  return s.size();
}

// `i` at a value's first byte: the index after the value; *space is set when whitespace
// separates its tokens.
size_t SkipValue(std::string_view s, size_t i, bool* space) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') return SkipContainer(s, i, space);
  while (i < s.size() && s[i] != ',' && s[i] != ']' && s[i] != '}' && !IsSpace(s[i])) ++i;
  return i;  // a number, true, false or null
}

// The text of each element of the root object's "results" array, as written in `body`.
// REQUIRES: `body` is valid JSON (the DOM parsed it). False when the scan cannot vouch for the
// slices (a top-level key written with escapes, an unexpected byte): the caller then uses the DOM.
bool ResultsSlices(std::string_view s, std::vector<ResponseParser::Slice>* out) {
  out->clear();
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && IsSpace(s[i])) ++i;
  };
  auto at = [&](char c) { return i < s.size() && s[i] == c; };
  ws();
  if (!at('{')) return false;
  ++i;
  while (true) {
    ws();
    if (!at('"')) return false;
    size_t key_start = i;
    i = SkipString(s, i);
    std::string_view key = s.substr(key_start, i - key_start);
    if (key.find('\\') != std::string_view::npos) return false;
    ws();
    if (!at(':')) return false;
    ++i;
    ws();
    if (key == "\"results\"") {
      if (!at('[')) return false;
      ++i;
      ws();
      if (at(']')) return true;
      while (true) {
        ws();
        bool space = false;
        size_t start = i;
        i = SkipValue(s, i, &space);
        if (i == start) return false;
        out->push_back({s.substr(start, i - start), space});
        ws();
        if (at(',')) {
          ++i;
          continue;
        }
        return at(']');
      }
    }
    bool ignored = false;
    i = SkipValue(s, i, &ignored);
    ws();
    if (!at(',')) return false;
    ++i;
  }
}

}  // namespace

std::string NameBasedUuid(std::string_view bytes) {
  // Namespace: a fixed UUID for DataForge record keys.
  static constexpr unsigned char kNamespace[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                                   0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  std::string input(reinterpret_cast<const char*>(kNamespace), sizeof kNamespace);
  input.append(bytes);
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), h, &len, EVP_sha1(), nullptr);
  h[6] = static_cast<unsigned char>((h[6] & 0x0f) | 0x50);
  h[8] = static_cast<unsigned char>((h[8] & 0x3f) | 0x80);
  return FormatUuid(h);
}

ResponseParser::ResponseParser(const SourceConfig& config)
    : config_(config), parser_(std::make_unique<simdjson::dom::parser>()) {
  for (const auto& path : config_.key_paths) {
    std::string pointer = "/";
    for (char c : path) pointer += c == '.' ? '/' : c;
    key_pointers_.push_back(std::move(pointer));
  }
}

ResponseParser::~ResponseParser() = default;

void ResponseParser::Parse(const std::string& body, const std::string& location,
                           int64_t fetched_at_us, std::vector<PageItem>* out) {
  auto whole = [&](std::string reason) {
    PageItem item;
    item.dead = true;
    // The reason may quote the response (its keys, the API's error): keep it one line.
    item.letter = {"source", EscapeControlChars(reason), location, Truncated(body), fetched_at_us};
    out->push_back(std::move(item));
  };
  simdjson::dom::element doc;
  auto err = parser_->parse(body).get(doc);
  if (err) {
    whole(fmt::format("response is not JSON: {}", simdjson::error_message(err)));
    return;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    whole("response is not a JSON object with a \"results\" array");
    return;
  }
  simdjson::dom::element results_el;
  if (obj["results"].get(results_el)) {
    std::string keys;
    for (auto field : obj) keys += (keys.empty() ? "" : ", ") + std::string(field.key);
    std::string_view api_error;
    if (obj["error"].get_string().get(api_error) == simdjson::SUCCESS) {
      whole(fmt::format("response has no \"results\" array; the API said: \"{}\"", api_error));
    } else {
      whole(fmt::format("response has no \"results\" array (keys: {})",
                        keys.empty() ? "none" : keys));
    }
    return;
  }
  simdjson::dom::array results;
  if (results_el.get_array().get(results)) {
    whole("response \"results\" is not an array");
    return;
  }
  // A record's raw text is its slice of the body (strings keep their escapes, numbers every
  // digit), without the whitespace between tokens; the DOM's re-serialisation only where the
  // scan cannot vouch for the slices.
  bool sliced = ResultsSlices(body, &slices_) && slices_.size() == results.size();
  size_t index = 0;
  out->reserve(out->size() + results.size());
  for (simdjson::dom::element rec : results) {
    PageItem item;
    if (rec.type() != simdjson::dom::element_type::OBJECT) {
      item.dead = true;
      item.letter = {"source", fmt::format("record {} of the response is not a JSON object", index),
                     fmt::format("{} #{}", location, index), simdjson::minify(rec), fetched_at_us};
      out->push_back(std::move(item));
      ++index;
      continue;
    }
    std::string raw;
    if (sliced && slices_[index].text.starts_with('{')) {
      const Slice& slice = slices_[index];
      if (slice.space) {
        raw.resize(slice.text.size());
        size_t len = 0;
        if (simdjson::minify(slice.text.data(), slice.text.size(), raw.data(), len)) {
          raw = simdjson::minify(rec);
        } else {
          raw.resize(len);
        }
      } else {
        raw.assign(slice.text);
      }
    } else {
      raw = simdjson::minify(rec);
    }
    std::string key;
    for (const auto& pointer : key_pointers_) {
      std::string_view v;
      if (rec.at_pointer(pointer).get_string().get(v) == simdjson::SUCCESS && !v.empty()) {
        key = std::string(v);
        break;
      }
    }
    if (key.empty()) {
      if (config_.key_fallback == "hash") {
        // The DOM's text, as before raw kept the record's own: derived keys stay the same.
        key = NameBasedUuid(simdjson::minify(rec));
      } else {
        std::string tried;
        for (const auto& p : config_.key_paths) tried += (tried.empty() ? "" : ", ") + p;
        item.dead = true;
        item.letter = {"source", fmt::format("record {} has no key (tried {})", index, tried),
                       fmt::format("{} #{}", location, index), raw, fetched_at_us};
        out->push_back(std::move(item));
        ++index;
        continue;
      }
    }
    item.record = {std::move(key), std::move(raw), fetched_at_us};
    out->push_back(std::move(item));
    ++index;
  }
}

}  // namespace dataforge
