// valijson's headers (Debian's libvalijson-dev), included by the JSON Schema format's sources.
// valijson uses <regex>; GCC 12 at -O1 with the sanitizers reports a false positive
// -Wmaybe-uninitialized inside libstdc++'s regex automaton (std::function in _State), raised
// where the templates are instantiated, i.e. at the end of the including file: the warning is
// therefore off for the rest of any file that includes this header (first, before other code).
#pragma once

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
