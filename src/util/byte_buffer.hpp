// A growable byte buffer with an inline append: the loop's cork buffer, where every outgoing
// frame is written, so appending must cost a compare and a memcpy, not a library call.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace capstan::util {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t capacity = 0) { reset_capacity(capacity); }

  void append(const void* bytes, size_t n) {
    if (capacity_ - size_ < n) grow(n);
    if (n) std::memcpy(data_.get() + size_, bytes, n);
    size_ += n;
  }
  void append(const char* bytes, size_t n) { append(static_cast<const void*>(bytes), n); }
  void push_back(char c) {
    if (size_ == capacity_) grow(1);
    data_[size_++] = c;
  }
  const char* data() const noexcept { return data_.get(); }
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return capacity_; }
  void clear() noexcept { size_ = 0; }
  // Drops the contents and sets the capacity (gives back what a huge message grew).
  void reset_capacity(size_t capacity) {
    data_.reset(capacity ? new char[capacity] : nullptr);
    capacity_ = capacity;
    size_ = 0;
  }

 private:
  void grow(size_t n) {
    size_t capacity = capacity_ ? capacity_ : 64;
    while (capacity - size_ < n) capacity *= 2;
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (size_) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace capstan::util
