# moto_server, with one RDS behaviour made as RDS has it: a promoted read replica no longer names
# its source (moto keeps ReadReplicaSourceDBInstanceIdentifier, where RDS drops it once the
# promotion is done). Arguments as moto_server's: -H HOST -p PORT.
import sys

from moto.rds import models
from moto.server import main

_promote = models.RDSBackend.promote_read_replica


def promote_read_replica(self, db_kwargs):
    database = _promote(self, db_kwargs)
    database.source_db_instance_identifier = None
    return database


models.RDSBackend.promote_read_replica = promote_read_replica
sys.exit(main())
