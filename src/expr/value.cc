#include "expr/value.h"

namespace dataforge::expr {

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kInt:
      return "int";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kTimestamp:
      return "timestamp";
    case Kind::kJson:
      return "json";
  }
  return "unknown";
}

}  // namespace dataforge::expr
