#!/usr/bin/env python3
"""Hold a database's write lock from another process, as a backup or an
sqlite3 session by hand would: the daemon's commits then fail (past
db/busy-ms) until it is let go.

usage: hold-db-lock.py DB FLAG SECONDS
Takes the lock, creates FLAG, holds the lock SECONDS, lets it go."""
import sqlite3
import sys
import time

db, flag, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(flag, "w").close()
time.sleep(secs)
c.execute("ROLLBACK")
