"""A site beyond one process: worker processes, one shard each, behind one control API."""
