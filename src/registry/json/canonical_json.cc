#include "registry/json/canonical_json.h"

#include <cstdint>
#include <string>

namespace dataforge::registry::json_schema {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ReadHex4(std::string_view text, size_t at, uint32_t* value) {
  if (at + 4 > text.size()) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    const int h = Hex(text[at + i]);
    if (h < 0) return false;
    v = v * 16 + static_cast<uint32_t>(h);
  }
  *value = v;
  return true;
}

// Writes one decoded character the way Jackson escapes it.
void AppendEscaped(uint32_t cp, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  switch (cp) {
    case '"':
      *out += "\\\"";
      return;
    case '\\':
      *out += "\\\\";
      return;
    case '\b':
      *out += "\\b";
      return;
    case '\t':
      *out += "\\t";
      return;
    case '\n':
      *out += "\\n";
      return;
    case '\f':
      *out += "\\f";
      return;
    case '\r':
      *out += "\\r";
      return;
    default:
      break;
  }
  if (cp < 0x20) {
    *out += "\\u00";
    *out += kHex[cp >> 4];
    *out += kHex[cp & 0xF];
    return;
  }
  AppendUtf8(cp, out);
}

// Copies the string starting at text[*i] == '"'; *i ends after the closing quote.
bool CopyString(std::string_view text, size_t* i, std::string* out) {
  *out += '"';
  size_t p = *i + 1;
  while (p < text.size()) {
    const char c = text[p];
    if (c == '"') {
      *out += '"';
      *i = p + 1;
      return true;
    }
    if (c != '\\') {
      // Raw bytes (UTF-8 included) are written as they are; control characters cannot
      // appear raw in valid JSON.
      *out += c;
      ++p;
      continue;
    }
    if (p + 1 >= text.size()) return false;
    const char e = text[p + 1];
    uint32_t cp = 0;
    p += 2;
    switch (e) {
      case '"':
        cp = '"';
        break;
      case '\\':
        cp = '\\';
        break;
      case '/':
        cp = '/';
        break;
      case 'b':
        cp = '\b';
        break;
      case 'f':
        cp = '\f';
        break;
      case 'n':
        cp = '\n';
        break;
      case 'r':
        cp = '\r';
        break;
      case 't':
        cp = '\t';
        break;
      case 'u': {
        if (!ReadHex4(text, p, &cp)) return false;
        p += 4;
        uint32_t low = 0;
        if (cp >= 0xD800 && cp < 0xDC00 && p + 6 <= text.size() && text[p] == '\\' &&
            text[p + 1] == 'u' && ReadHex4(text, p + 2, &low) && low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          p += 6;
        }
        break;
      }
      default:
        return false;
    }
    AppendEscaped(cp, out);
  }
  return false;
}

}  // namespace

std::string BigDecimalText(std::string_view number) {
  bool negative = false;
  if (!number.empty() && number[0] == '-') {
    negative = true;
    number.remove_prefix(1);
  }
  std::string digits;
  int64_t scale = 0;  // value = digits * 10^-scale
  size_t i = 0;
  for (; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i) digits += number[i];
  if (i < number.size() && number[i] == '.') {
    for (++i; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i) {
      digits += number[i];
      ++scale;
    }
  }
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < number.size() && (number[i] == '+' || number[i] == '-')) {
      exp_negative = number[i] == '-';
      ++i;
    }
    int64_t exponent = 0;
    for (; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i) {
      if (exponent < 1000000000) exponent = exponent * 10 + (number[i] - '0');
    }
    scale += exp_negative ? exponent : -exponent;
  }
  // BigDecimal keeps the unscaled value without leading zeros.
  const size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  const bool zero = digits == "0";
  const int64_t adjusted = -scale + static_cast<int64_t>(digits.size()) - 1;
  std::string out = negative && !zero ? "-" : "";
  if (scale >= 0 && adjusted >= -6) {
    if (scale == 0) {
      out += digits;
    } else if (static_cast<int64_t>(digits.size()) > scale) {
      out += digits.substr(0, digits.size() - static_cast<size_t>(scale));
      out += '.';
      out += digits.substr(digits.size() - static_cast<size_t>(scale));
    } else {
      out += "0.";
      out += std::string(static_cast<size_t>(scale) - digits.size(), '0');
      out += digits;
    }
    return out;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  if (adjusted != 0) {
    out += 'E';
    out += adjusted > 0 ? "+" : "-";
    out += std::to_string(adjusted > 0 ? adjusted : -adjusted);
  }
  return out;
}

Result<std::string> CanonicalJson(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '"') {
      if (!CopyString(text, &i, &out)) return Status::InvalidArgument("malformed JSON string");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i + 1;
      bool integral = true;
      while (end < text.size()) {
        const char d = text[end];
        if (d == '.' || d == 'e' || d == 'E') integral = false;
        if ((d >= '0' && d <= '9') || d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-') {
          ++end;
        } else {
          break;
        }
      }
      const std::string_view number = text.substr(i, end - i);
      if (integral) {
        out += number == "-0" ? std::string_view("0") : number;
      } else {
        out += BigDecimalText(number);
      }
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace dataforge::registry::json_schema
