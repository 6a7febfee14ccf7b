// Errors as values across module boundaries (LevelDB's Status, reduced). Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "common/assert.h"

namespace paxcron {

class [[nodiscard]] Status {
 public:
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  const std::string& message() const {
    PAXCRON_ASSERT(!ok());
    return *message_;
  }

 private:
  Status() = default;
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

// A value or an error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)), status_(Status::Ok()) {}  // NOLINT: implicit
  Result(Status status) : status_(std::move(status)) { PAXCRON_ASSERT(!status_.ok()); }  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const {
    PAXCRON_ASSERT(ok());
    return *value_;
  }
  T& value() {
    PAXCRON_ASSERT(ok());
    return *value_;
  }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace paxcron
