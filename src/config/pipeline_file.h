// Reading, checking and printing pipeline files.
//
// A pipeline file is YAML. Every key is optional: what a file leaves out keeps the built-in
// default (pipelines/default.yaml, compiled into the binary). Scalars may use ${VAR} or
// ${VAR:-fallback}, replaced from the environment before they are read.
// Errors are ConfigError with "FILE:LINE: what is wrong; how to fix it". Thread-safe (no state).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

// The text of pipelines/default.yaml as built into this binary.
std::string_view DefaultPipelineYaml();

// The built-in default pipeline. Never fails (a broken default breaks the build's tests).
PipelineConfig DefaultPipelineConfig();

// Parses `yaml` (named `file_name` in errors) over the defaults and validates the result.
Result<PipelineConfig> ParsePipelineConfig(std::string_view yaml, const std::string& file_name);

// Reads and parses a pipeline file from disk.
Result<PipelineConfig> LoadPipelineConfig(const std::string& path);

// Registers (common/redact.h) every secret `config` holds: URL passwords and secret-named URL
// parameters, secret-named log properties and task env values, the Cassandra password, the JWT
// HS256 secret. Called by ParsePipelineConfig, so secrets that came from ${ENV} stay masked in
// everything printed later; call it again after overriding URLs.
void RegisterConfigSecrets(const PipelineConfig& config);

// The effective configuration as a complete YAML pipeline file (what `config show` prints);
// every secret is "***".
std::string PipelineConfigToYaml(const PipelineConfig& config);

}  // namespace dataforge
