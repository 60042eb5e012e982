// libFuzzer target for pipeline files (config/pipeline_file, config/dag_reader: the YAML a user
// writes, with its dags and scheduler sections). Invariants beyond "no crash": no exception
// escapes (yaml-cpp throws; the reader must turn that into a Status); a refused file is a
// ConfigError with one line starting "<file>:"; an accepted file printed by
// PipelineConfigToYaml (`config show`) reads back without error and prints the same again (the
// JWT secret, which `config show` masks and a file may not hold masked, is put back first).
//
// Seeds: tests/fuzz/corpus/pipeline_yaml (pipelines/*.yaml and small variants). Run:
//   scripts/fuzz.sh 600 pipeline_yaml
// or the binary on a copy of that directory (libFuzzer adds the inputs it finds to it).
#include <cstdint>
#include <string>
#include <string_view>

#include "config/pipeline_file.h"
#include "fuzz_util.h"

namespace dataforge {
namespace {

constexpr const char* kTarget = "pipeline_yaml_fuzz";

void Run(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto config = ParsePipelineConfig(yaml, "fuzz.yaml");
  if (!config.ok()) {
    fuzz::CheckError(config.status(), kTarget, "ParsePipelineConfig");
    fuzz::Check(config.status().code() == StatusCode::kConfigError, kTarget,
                "not a ConfigError: " + config.status().ToString());
    fuzz::Check(config.status().message().rfind("fuzz.yaml:", 0) == 0, kTarget,
                "error does not name the file: " + config.status().message());
    return;
  }
  const std::string shown = PipelineConfigToYaml(*config);
  std::string readable = shown;
  const std::string masked = "hs256_secret: \"***\"";
  if (size_t at = readable.find(masked); at != std::string::npos) {
    readable.replace(at, masked.size(), "hs256_secret: \"fuzz-secret-0123456789abcdef-0123\"");
  }
  auto again = ParsePipelineConfig(readable, "shown.yaml");
  fuzz::Check(again.ok(), kTarget,
              "config show output does not read back: " + again.status().ToString() + "\n" + shown);
  fuzz::Check(PipelineConfigToYaml(*again) == shown, kTarget,
              "config show output reads back differently:\n" + shown);
}

}  // namespace
}  // namespace dataforge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DF_FUZZ_NO_EXCEPTIONS(dataforge::kTarget, dataforge::Run(data, size));
  return 0;
}
