# moto_server, with RDS's read replicas made as RDS has them: a replica reports its replication
# state (StatusInfos "read replication": replicating), which moto leaves out; and a promotion
# takes a while — moto promotes at once and keeps ReadReplicaSourceDBInstanceIdentifier, RDS reads
# `modifying`, still naming its source, then `available` with no source.
# LIFEBOAT_MOTO_PROMOTING_READS (default 0) is how many DescribeDBInstances answers see a
# promoted replica still `modifying`.
# Arguments as moto_server's: -H HOST -p PORT.
import os
import sys

from moto.rds import models
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


models.RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica
models.RDSBackend.promote_read_replica = promote_read_replica
models.RDSBackend.describe_db_instances = describe_db_instances
sys.exit(main())
