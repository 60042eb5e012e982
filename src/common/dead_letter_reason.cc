#include "common/dead_letter_reason.h"

namespace dataforge {
namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

std::string_view DeadLetterReasonClass(std::string_view reason) {
  if (Has(reason, "exceeds") || Has(reason, "max_record_bytes") ||
      Has(reason, "max_response_bytes") || Has(reason, "too large"))
    return "too_large";
  if (Has(reason, "not valid JSON") || Has(reason, "not JSON") || Has(reason, "not a JSON") ||
      Has(reason, "no \"results\" array"))
    return "invalid_json";
  if (Has(reason, "key column") || Has(reason, "no key") || Has(reason, "has no value"))
    return "missing_key";
  if (Has(reason, "no value (tried")) return "missing_field";
  if (Has(reason, " is not a") || Has(reason, " is not ")) return "type_mismatch";
  return "other";
}

}  // namespace dataforge
