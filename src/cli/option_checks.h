// What a numeric or enumerated command-line value must look like, said in the error.
//
// CLI11's own conversion error ("Could not convert: --max-records = abc") does not say what a
// valid value is. These validators run on the text before CLI11 converts it, so a bad value
// fails with "--max-records: 'abc' is not a whole number >= 0" (exit 2, like every usage
// error). Not thread-safe: call while building the App.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace dataforge {

// A whole number (decimal digits, optional '-') in [min, max].
CLI::Validator WholeNumber(int64_t min = std::numeric_limits<int64_t>::min(),
                           int64_t max = std::numeric_limits<int64_t>::max());

// One of `values`, spelled exactly.
CLI::Validator OneOf(std::vector<std::string> values);

// Gives every option of `app` and its subcommands that converts to a number and has no
// validator of its own the check of its type: UINT -> WholeNumber(0), INT -> WholeNumber(),
// FLOAT -> a decimal number. Call once, after every option is added.
void ExplainNumericOptions(CLI::App& app);

}  // namespace dataforge
