// ReplicaIdentity: who this bridge process is among the replicas that share
// a JetStream journal. The id is kept in --data_dir (file `replica-id`), so
// a bridge restarted on the same data directory is the same replica and
// takes its consumer groups back at once instead of waiting out its own
// lease; a lock on `replica.lock` there keeps two live processes from
// sharing a directory, and so an id.
#ifndef REFIR_BRIDGE_SERVER_REPLICA_IDENTITY_H_
#define REFIR_BRIDGE_SERVER_REPLICA_IDENTITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace refir::bridge {

class ReplicaIdentity {
 public:
  // Locks `data_dir` (FAILED_PRECONDITION when another process holds it)
  // and reads its id, making one ("<hostname>-<random hex>") the first time.
  static absl::StatusOr<std::unique_ptr<ReplicaIdentity>> Claim(const std::string& data_dir);

  ReplicaIdentity(int lock_fd, std::string id) : lock_fd_(lock_fd), id_(std::move(id)) {}
  ~ReplicaIdentity();

  ReplicaIdentity(const ReplicaIdentity&) = delete;
  ReplicaIdentity& operator=(const ReplicaIdentity&) = delete;

  const std::string& id() const { return id_; }

 private:
  int lock_fd_;
  std::string id_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_REPLICA_IDENTITY_H_
