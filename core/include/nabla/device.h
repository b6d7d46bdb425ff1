// Where a tensor lives: Device{type, index}.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace nabla {

enum class DeviceType : int8_t { CPU = 0, CUDA = 1 };
inline constexpr int kNumDeviceTypes = 2;

std::string_view device_type_name(DeviceType t);

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  constexpr Device() = default;
  constexpr Device(DeviceType t, int i = 0) : type(t), index(i) {}  // NOLINT
  /// Parses "cpu", "cuda", "cuda:1"; throws nabla::Error on anything else.
  explicit Device(std::string_view spec);

  static constexpr Device cpu() { return Device(DeviceType::CPU, 0); }
  static constexpr Device cuda(int i = 0) { return Device(DeviceType::CUDA, i); }
  constexpr bool is_cpu() const { return type == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type == DeviceType::CUDA; }
  /// "cpu" or "cuda:N".
  std::string str() const;

  friend constexpr bool operator==(Device a, Device b) { return a.type == b.type && a.index == b.index; }
};

inline constexpr Device kCPU = Device::cpu();

std::ostream& operator<<(std::ostream& os, Device d);

}  // namespace nabla
