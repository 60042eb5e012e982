// A spdlog sink that masks secrets (common/redact.h) in every message before passing it on:
// every log line DataForge writes goes through Redact(). Thread-safe as the wrapped sink is.
#pragma once

#include <memory>

#include <spdlog/sinks/sink.h>

namespace dataforge {

// Wraps `inner` (owned, shared with nobody else): log() forwards a copy of the message whose
// text is Redact(text); flush/set_pattern/set_formatter go to `inner`.
std::shared_ptr<spdlog::sinks::sink> MakeRedactingSink(std::shared_ptr<spdlog::sinks::sink> inner);

}  // namespace dataforge
