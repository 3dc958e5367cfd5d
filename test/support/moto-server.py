# moto_server, with RDS's read replicas made as RDS has them: a replica reports its replication
# state (StatusInfos "read replication": replicating), which moto leaves out; and a promotion
# takes a while — moto promotes at once and keeps ReadReplicaSourceDBInstanceIdentifier, RDS reads
# `modifying`, still naming its source, then `available` with no source.
# LIFEBOAT_MOTO_PROMOTING_READS (default 0) is how many DescribeDBInstances answers see a
# promoted replica still `modifying`.
# Arguments as moto_server's: -H HOST -p PORT.
import os
import sys

from moto.core.responses import ActionResult
from moto.rds import models
from moto.rds.exceptions import DBClusterNotFoundError, RDSClientError
from moto.rds.responses import RDSResponse
from moto.server import main

PROMOTING_READS = int(os.environ.get("LIFEBOAT_MOTO_PROMOTING_READS", "0"))
_promote = models.RDSBackend.promote_read_replica
_create_replica = models.RDSBackend.create_db_instance_read_replica
REPLICATING = [{"StatusType": "read replication", "Normal": True, "Status": "replicating"}]
_describe = models.RDSBackend.describe_db_instances
# id(database) -> describe answers left before its promotion is done (by object: a reset store's
# new instance of the same name is not the one promoting)
promoting = {}


def finish(database):
    database.status = "available"
    database.source_db_instance_identifier = None
    database.status_infos = None


def create_db_instance_read_replica(self, db_kwargs):
    replica = _create_replica(self, db_kwargs)
    replica.status_infos = REPLICATING
    return replica


def promote_read_replica(self, db_kwargs):
    source = self.databases[db_kwargs["db_instance_identifier"]].source_db_instance_identifier
    database = _promote(self, db_kwargs)
    if PROMOTING_READS > 0:
        database.status = "modifying"
        database.source_db_instance_identifier = source
        promoting[id(database)] = [database, PROMOTING_READS]
    else:
        finish(database)
    return database


def describe_db_instances(self, db_instance_identifier=None, filters=None):
    databases = _describe(self, db_instance_identifier, filters)
    for database in databases:
        entry = promoting.get(id(database))
        if entry is None or entry[0] is not database:
            continue
        if entry[1] > 0:
            entry[1] -= 1
        else:
            del promoting[id(database)]
            finish(database)
    return databases


# Aurora Global Database: moto has global clusters and their members, not SwitchoverGlobalCluster
# or FailoverGlobalCluster. Both are made here as Aurora does them: the global cluster reads
# `switching-over` / `failing-over` with a FailoverState for PROMOTING_READS descriptions, then the
# target member is the writer and the old writer a secondary.
switching = {}


class GlobalClusterNotFound(RDSClientError):
    def __init__(self, identifier):
        super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")


def global_cluster(response):
    wanted = response._get_param("GlobalClusterIdentifier")
    for identifier, cluster in response.global_backend.global_clusters.items():
        if identifier.lower() == wanted.lower():
            return cluster
    raise GlobalClusterNotFound(wanted)


def switch_global(response, data_loss):
    cluster = global_cluster(response)
    target = response._get_param("TargetDbClusterIdentifier")
    members = {m.db_cluster_arn: m for m in cluster.members}
    to = next((m for arn, m in members.items() if arn == target or arn.endswith(":" + target)), None)
    if to is None:
        raise DBClusterNotFoundError(target)
    old = next((m for m in cluster.members if m.is_writer), None)
    if PROMOTING_READS > 0:
        cluster.status = "failing-over" if data_loss else "switching-over"
        cluster.failover_state = {
            "Status": "failing-over" if data_loss else "switching-over",
            "FromDbClusterArn": old.db_cluster_arn if old else None,
            "ToDbClusterArn": to.db_cluster_arn,
            "IsDataLossAllowed": data_loss,
        }
        switching[id(cluster)] = [cluster, old, to, PROMOTING_READS]
    else:
        finish_switch(cluster, old, to)
    return ActionResult({"GlobalCluster": cluster})


def finish_switch(cluster, old, to):
    if old is not None:
        old.is_writer = False
    to.is_writer = True
    cluster.members.sort(key=lambda m: not m.is_writer)
    cluster.status = "available"
    cluster.failover_state = None


_describe_global = models.RDSBackend.describe_global_clusters


def describe_global_clusters(self):
    for entry in list(switching.values()):
        cluster, old, to, left = entry
        if left > 0:
            entry[3] = left - 1
        else:
            del switching[id(cluster)]
            finish_switch(cluster, old, to)
    return _describe_global(self)


RDSResponse.switchover_global_cluster = lambda self: switch_global(self, False)
RDSResponse.failover_global_cluster = lambda self: switch_global(
    self, self._get_bool_param("AllowDataLoss", False)
)
models.RDSBackend.describe_global_clusters = describe_global_clusters
models.RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica
models.RDSBackend.promote_read_replica = promote_read_replica
models.RDSBackend.describe_db_instances = describe_db_instances
sys.exit(main())
