#pragma once
// A value or an error message: the data path reports failures as values, never as exceptions.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace proxy {

struct failure {
  std::string message;
};

template <class T> class result {
public:
  result(T value) : v_(std::move(value)) {}
  result(failure f) : v_(std::move(f)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T &value() {
    assert(ok());
    return std::get<0>(v_);
  }
  const T &value() const {
    assert(ok());
    return std::get<0>(v_);
  }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  const std::string &error() const {
    assert(!ok());
    return std::get<1>(v_).message;
  }

private:
  std::variant<T, failure> v_;
};

/// The result of an operation that yields nothing but may fail.
struct done {};

} // namespace proxy
