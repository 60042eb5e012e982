#include "source/http/response_parser.h"

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
    : config_(config), parser_(std::make_unique<simdjson::dom::parser>()) {}

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
  size_t index = 0;
  for (simdjson::dom::element rec : results) {
    PageItem item;
    std::string raw = simdjson::minify(rec);
    if (rec.type() != simdjson::dom::element_type::OBJECT) {
      item.dead = true;
      item.letter = {"source", fmt::format("record {} of the response is not a JSON object", index),
                     fmt::format("{} #{}", location, index), raw, fetched_at_us};
      out->push_back(std::move(item));
      ++index;
      continue;
    }
    std::string key;
    for (const auto& path : config_.key_paths) {
      std::string pointer = "/";
      for (char c : path) pointer += c == '.' ? '/' : c;
      std::string_view v;
      if (rec.at_pointer(pointer).get_string().get(v) == simdjson::SUCCESS && !v.empty()) {
        key = std::string(v);
        break;
      }
    }
    if (key.empty()) {
      if (config_.key_fallback == "hash") {
        key = NameBasedUuid(raw);
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
