// Reference data for the built-in randomuser-compatible API: per-nationality names, places and
// formats, modelled on what randomuser.me 1.4 returns. Immutable; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace dataforge::mockapi {

// A name as shown, and folded to ASCII for emails and usernames.
struct Name {
  std::string_view shown;
  std::string_view ascii;
};

struct Place {
  std::string_view city;
  std::string_view state;
};

enum class PostcodeKind { kInt5, kInt4, kDigits4String, kGb, kCa, kNl };

struct Nationality {
  std::string_view code;     // "US"
  std::string_view country;  // "United States"
  std::span<const Name> male;
  std::span<const Name> female;
  std::span<const Name> last;
  std::span<const Place> places;
  std::span<const std::string_view> streets;
  PostcodeKind postcode;
  std::string_view id_name;  // "" = the API's {"name":"","value":null}
  std::string_view phone;    // pattern: '#' = digit
  bool french_titles;
};

std::span<const Nationality> Nationalities();

}  // namespace dataforge::mockapi
