// Whether the test binary is the ASan+UBSan build. scripts/test.sh runs the integration tests on
// it and on the release build; a test that proves something only the release run needs (a
// documented command's output, a 200,000-record scale) skips itself under the sanitizers.
#pragma once

namespace dataforge::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif
#else
inline constexpr bool kSanitizerBuild = false;
#endif

}  // namespace dataforge::testing
