#include "bridge/journal/sqlite/sqlite_reader_pool.h"

#include <algorithm>
#include <utility>

#include "bridge/common/status_macros.h"

namespace refir::bridge::sqlite {

absl::Status ReaderPool::Open(const std::string& path, size_t connections) {
  const size_t count = std::max<size_t>(connections, 1);
  for (size_t i = 0; i < count; ++i) {
    REFIR_ASSIGN_OR_RETURN(std::unique_ptr<JournalReader> reader, JournalReader::Open(path));
    absl::MutexLock lock(&mu_);
    free_.push_back(reader.get());
    readers_.push_back(std::move(reader));
  }
  return absl::OkStatus();
}

ReaderPool::Lease::Lease(ReaderPool* pool) : pool_(pool) {
  absl::MutexLock lock(&pool_->mu_);
  pool_->mu_.Await(absl::Condition(pool_, &ReaderPool::HasFreeReader));
  reader_ = pool_->free_.back();
  pool_->free_.pop_back();
}

ReaderPool::Lease::~Lease() {
  absl::MutexLock lock(&pool_->mu_);
  pool_->free_.push_back(reader_);
}

}  // namespace refir::bridge::sqlite
