// BodyBudget: the request body bytes all connections of a listener may hold
// at once. A request takes its declared Content-Length (or, chunked, each
// chunk as it arrives) before buffering it and gives it back when answered;
// a request that does not fit is refused (503 overloaded) instead of
// buffered, so slow senders declaring large bodies cannot add up to more
// than the budget however many connections they open.
#ifndef REFIR_BRIDGE_HTTP_EDGE_BODY_BUDGET_H_
#define REFIR_BRIDGE_HTTP_EDGE_BODY_BUDGET_H_

#include <atomic>
#include <cstddef>

namespace refir::bridge {

class BodyBudget {
 public:
  explicit BodyBudget(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Takes `bytes` if they fit; false (nothing taken) if not.
  bool TryTake(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > max_bytes_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void Give(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t max_bytes() const { return max_bytes_; }

 private:
  const size_t max_bytes_;
  std::atomic<size_t> used_{0};
};

// Gives back what it took when it goes out of scope.
class BodyBudgetLease {
 public:
  explicit BodyBudgetLease(BodyBudget* budget) : budget_(budget) {}
  ~BodyBudgetLease() { budget_->Give(taken_); }
  BodyBudgetLease(const BodyBudgetLease&) = delete;
  BodyBudgetLease& operator=(const BodyBudgetLease&) = delete;

  bool TryTake(size_t bytes) {
    if (!budget_->TryTake(bytes)) return false;
    taken_ += bytes;
    return true;
  }
  size_t taken() const { return taken_; }

 private:
  BodyBudget* const budget_;
  size_t taken_ = 0;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_BODY_BUDGET_H_
