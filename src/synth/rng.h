// A small, fast, seeded pseudo-random generator (xoshiro256**, seeded by splitmix64) with the
// distributions the generator needs. Same seed, same sequence, on every platform: only integer
// arithmetic and plain double operations (no libm transcendental functions).
#pragma once

#include <cstddef>
#include <cstdint>

namespace carechart::synth {

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A stream derived from (seed, stream): patient i gets stream i, so that a patient's record does
// not depend on how many patients are generated.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t stream) {
  uint64_t s = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  SplitMix64(s);
  return SplitMix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (auto& x : s_) {
      x = SplitMix64(s);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) (n > 0); Lemire's multiply-shift, bias negligible for our n.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform integer in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  bool Chance(double p) { return Uniform() < p; }
  // Approximately normal (Irwin-Hall sum of 4 uniforms, scaled to unit variance; tails at ±3.46).
  double Normal(double mean, double sd) {
    double sum = Uniform() + Uniform() + Uniform() + Uniform();
    return mean + sd * (sum - 2.0) * 1.7320508075688772;
  }
  // Index chosen with the given weights (any positive scale).
  size_t Weighted(const double* weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      total += weights[i];
    }
    double x = Uniform() * total;
    for (size_t i = 0; i < n; ++i) {
      if (x < weights[i]) {
        return i;
      }
      x -= weights[i];
    }
    return n - 1;
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace carechart::synth
