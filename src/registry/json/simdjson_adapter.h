// A valijson adapter over simdjson's DOM (simdjson::dom::element), so JSON Schema validation
// (valijson, Debian's libvalijson-dev) runs on the JSON parser the project already uses, without
// a second JSON DOM. Same shape as valijson's own adapters (valijson/adapters/*.hpp): a value
// class wrapped by BasicAdapter, array and object views with iterators, a FrozenValue.
//
// Contract:
// - An adapter, array, object or iterator is a view: it borrows the dom::element's document (the
//   simdjson::dom::parser or dom::document that parsed it), which must outlive it and must not
//   be reused for another parse while the view is used. Cheap to copy (a tape pointer).
// - SimdjsonFrozenValue (what valijson keeps of "enum"/"const" values in a parsed schema) owns
//   its own copy: a dom::document of the value, shared between clones, immutable.
// - Numbers: int64 values are integers; uint64 values above INT64_MAX are integers for "type"
//   and compare as doubles (valijson's getInteger is int64); JSON numbers with a fraction or an
//   exponent are doubles, also when their value is whole (strict typing: 1.0 is not an
//   "integer", as valijson's other strict adapters decide).
// - Strings are returned as copies (valijson's interface is std::string); object member names
//   likewise (valijson's ObjectMember is std::pair<std::string, Adapter>).
// - Thread-safety: read-only views; as thread-safe as the document they borrow.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <valijson/exceptions.hpp>
#include <valijson/internal/adapter.hpp>
#include <valijson/internal/basic_adapter.hpp>
#include <valijson/internal/frozen_value.hpp>

namespace valijson::adapters {

class SimdjsonAdapter;
class SimdjsonArrayValueIterator;
class SimdjsonObjectMemberIterator;
using SimdjsonObjectMember = std::pair<std::string, SimdjsonAdapter>;

// An array view; a default-constructed one is empty.
class SimdjsonArray {
 public:
  using const_iterator = SimdjsonArrayValueIterator;
  using iterator = SimdjsonArrayValueIterator;

  SimdjsonArray() = default;
  explicit SimdjsonArray(simdjson::dom::element value) {
    simdjson::dom::array a;
    if (value.get_array().get(a) != simdjson::SUCCESS) {
      throwRuntimeError("Value is not an array.");
    }
    array_ = a;
  }
  SimdjsonArrayValueIterator begin() const;
  SimdjsonArrayValueIterator end() const;
  size_t size() const { return array_ ? array_->size() : 0; }

 private:
  std::optional<simdjson::dom::array> array_;
};

// An object view; a default-constructed one is empty.
class SimdjsonObject {
 public:
  using const_iterator = SimdjsonObjectMemberIterator;
  using iterator = SimdjsonObjectMemberIterator;

  SimdjsonObject() = default;
  explicit SimdjsonObject(simdjson::dom::element value) {
    simdjson::dom::object o;
    if (value.get_object().get(o) != simdjson::SUCCESS) {
      throwRuntimeError("Value is not an object.");
    }
    object_ = o;
  }
  SimdjsonObjectMemberIterator begin() const;
  SimdjsonObjectMemberIterator end() const;
  // The first member named `name` (linear: objects in records are small), or end().
  SimdjsonObjectMemberIterator find(const std::string& name) const;
  size_t size() const { return object_ ? object_->size() : 0; }

 private:
  std::optional<simdjson::dom::object> object_;
};

// An owned copy of a value (see the contract above).
class SimdjsonFrozenValue : public FrozenValue {
 public:
  explicit SimdjsonFrozenValue(simdjson::dom::element source) {
    const std::string text = simdjson::minify(source);
    auto doc = std::make_shared<simdjson::dom::document>();
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse_into_document(*doc, text).get(root) != simdjson::SUCCESS) {
      throwRuntimeError("cannot copy a JSON value");
    }
    doc_ = std::move(doc);
    root_ = root;
  }
  FrozenValue* clone() const override { return new SimdjsonFrozenValue(*this); }
  bool equalTo(const Adapter& other, bool strict) const override;

 private:
  std::shared_ptr<const simdjson::dom::document> doc_;
  simdjson::dom::element root_;
};

// The value class BasicAdapter wraps.
class SimdjsonValue {
 public:
  SimdjsonValue() = default;  // an empty object, as valijson's adapters default to
  explicit SimdjsonValue(simdjson::dom::element value) : value_(value), valid_(true) {}

  FrozenValue* freeze() const { return new SimdjsonFrozenValue(value_); }

  opt::optional<SimdjsonArray> getArrayOptional() const {
    if (isArray()) return opt::make_optional(SimdjsonArray(value_));
    return {};
  }
  bool getArraySize(size_t& result) const {
    if (!isArray()) return false;
    result = SimdjsonArray(value_).size();
    return true;
  }
  bool getBool(bool& result) const {
    if (!isBool()) return false;
    result = value_.get_bool().value_unsafe();
    return true;
  }
  bool getDouble(double& result) const {
    if (!isDouble()) return false;
    return value_.get_double().get(result) == simdjson::SUCCESS;
  }
  bool getInteger(int64_t& result) const {
    if (!valid_ || value_.type() != simdjson::dom::element_type::INT64) return false;
    result = value_.get_int64().value_unsafe();
    return true;
  }
  opt::optional<SimdjsonObject> getObjectOptional() const {
    if (isObject()) return opt::make_optional(SimdjsonObject(value_));
    if (!valid_) return opt::make_optional(SimdjsonObject());
    return {};
  }
  bool getObjectSize(size_t& result) const {
    if (!valid_) {
      result = 0;
      return true;
    }
    if (!isObject()) return false;
    result = SimdjsonObject(value_).size();
    return true;
  }
  bool getString(std::string& result) const {
    std::string_view s;
    if (!valid_ || value_.get_string().get(s) != simdjson::SUCCESS) return false;
    result.assign(s.data(), s.size());
    return true;
  }
  static bool hasStrictTypes() { return true; }

  bool isArray() const { return valid_ && value_.type() == simdjson::dom::element_type::ARRAY; }
  bool isBool() const { return valid_ && value_.type() == simdjson::dom::element_type::BOOL; }
  // A double for valijson: a number with a fraction or exponent, or a uint64 beyond int64 (so
  // getNumber() has a value for it).
  bool isDouble() const {
    if (!valid_) return false;
    const auto t = value_.type();
    return t == simdjson::dom::element_type::DOUBLE || t == simdjson::dom::element_type::UINT64;
  }
  bool isInteger() const {
    if (!valid_) return false;
    const auto t = value_.type();
    return t == simdjson::dom::element_type::INT64 || t == simdjson::dom::element_type::UINT64;
  }
  bool isNull() const { return valid_ && value_.type() == simdjson::dom::element_type::NULL_VALUE; }
  bool isNumber() const { return isInteger() || isDouble(); }
  bool isObject() const { return !valid_ || value_.type() == simdjson::dom::element_type::OBJECT; }
  bool isString() const { return valid_ && value_.type() == simdjson::dom::element_type::STRING; }

 private:
  simdjson::dom::element value_;
  bool valid_ = false;
};

class SimdjsonAdapter : public BasicAdapter<SimdjsonAdapter, SimdjsonArray, SimdjsonObjectMember,
                                            SimdjsonObject, SimdjsonValue> {
 public:
  SimdjsonAdapter() : BasicAdapter() {}
  explicit SimdjsonAdapter(simdjson::dom::element value) : BasicAdapter(SimdjsonValue(value)) {}
};

// Array iteration is forward over simdjson's tape; valijson also steps back once (uniqueItems:
// --end()) and advances by n, which re-walk from the start (O(n), arrays in records are small).
class SimdjsonArrayValueIterator {
 public:
  using iterator_category = std::bidirectional_iterator_tag;
  using value_type = SimdjsonAdapter;
  using difference_type = SimdjsonAdapter;
  using pointer = SimdjsonAdapter*;
  using reference = SimdjsonAdapter&;

  SimdjsonArrayValueIterator() = default;
  SimdjsonArrayValueIterator(std::optional<simdjson::dom::array> array, size_t index)
      : array_(array), index_(index) {
    if (array_) {
      it_ = array_->begin();
      for (size_t i = 0; i < index_; ++i) ++it_;
    }
  }
  SimdjsonAdapter operator*() const { return SimdjsonAdapter(*it_); }
  DerefProxy<SimdjsonAdapter> operator->() const { return DerefProxy<SimdjsonAdapter>(**this); }
  bool operator==(const SimdjsonArrayValueIterator& other) const { return index_ == other.index_; }
  bool operator!=(const SimdjsonArrayValueIterator& other) const { return !(*this == other); }
  const SimdjsonArrayValueIterator& operator++() {
    ++it_;
    ++index_;
    return *this;
  }
  SimdjsonArrayValueIterator operator++(int) {
    SimdjsonArrayValueIterator before = *this;
    ++(*this);
    return before;
  }
  const SimdjsonArrayValueIterator& operator--() {
    *this = SimdjsonArrayValueIterator(array_, index_ - 1);
    return *this;
  }
  void advance(std::ptrdiff_t n) {
    if (n < 0) {
      *this = SimdjsonArrayValueIterator(array_, index_ - static_cast<size_t>(-n));
      return;
    }
    for (std::ptrdiff_t i = 0; i < n; ++i) ++(*this);
  }

 private:
  std::optional<simdjson::dom::array> array_;
  simdjson::dom::array::iterator it_;
  size_t index_ = 0;
};

class SimdjsonObjectMemberIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = SimdjsonObjectMember;
  using difference_type = SimdjsonObjectMember;
  using pointer = SimdjsonObjectMember*;
  using reference = SimdjsonObjectMember&;

  SimdjsonObjectMemberIterator() = default;
  SimdjsonObjectMemberIterator(simdjson::dom::object::iterator it, size_t index)
      : it_(it), index_(index) {}
  SimdjsonObjectMember operator*() const {
    return SimdjsonObjectMember(std::string(it_.key()), SimdjsonAdapter(it_.value()));
  }
  DerefProxy<SimdjsonObjectMember> operator->() const {
    return DerefProxy<SimdjsonObjectMember>(**this);
  }
  bool operator==(const SimdjsonObjectMemberIterator& other) const {
    return index_ == other.index_;
  }
  bool operator!=(const SimdjsonObjectMemberIterator& other) const { return !(*this == other); }
  const SimdjsonObjectMemberIterator& operator++() {
    ++it_;
    ++index_;
    return *this;
  }
  SimdjsonObjectMemberIterator operator++(int) {
    SimdjsonObjectMemberIterator before = *this;
    ++(*this);
    return before;
  }

 private:
  simdjson::dom::object::iterator it_;
  size_t index_ = 0;
};

template <>
struct AdapterTraits<valijson::adapters::SimdjsonAdapter> {
  // What the external-document fetch callback returns (SchemaParser::populateSchema).
  using DocumentType = simdjson::dom::element;
  static std::string adapterName() { return "SimdjsonAdapter"; }
};

inline bool SimdjsonFrozenValue::equalTo(const Adapter& other, bool strict) const {
  return SimdjsonAdapter(root_).equalTo(other, strict);
}

inline SimdjsonArrayValueIterator SimdjsonArray::begin() const {
  return SimdjsonArrayValueIterator(array_, 0);
}
inline SimdjsonArrayValueIterator SimdjsonArray::end() const {
  SimdjsonArrayValueIterator end;
  end = SimdjsonArrayValueIterator(std::nullopt, size());
  return end;
}

inline SimdjsonObjectMemberIterator SimdjsonObject::begin() const {
  if (!object_) return SimdjsonObjectMemberIterator();
  return SimdjsonObjectMemberIterator(object_->begin(), 0);
}
inline SimdjsonObjectMemberIterator SimdjsonObject::end() const {
  return SimdjsonObjectMemberIterator(simdjson::dom::object::iterator(), size());
}
inline SimdjsonObjectMemberIterator SimdjsonObject::find(const std::string& name) const {
  if (!object_) return end();
  size_t index = 0;
  for (auto it = object_->begin(); it != object_->end(); ++it, ++index) {
    if (it.key_equals(name)) return SimdjsonObjectMemberIterator(it, index);
  }
  return end();
}

}  // namespace valijson::adapters
