// Makes the bundled MongoDB a replica set of one member, and exits 0 once it
// is the writable primary: the compose health check and the chart's startup
// probe run it with mongosh, as the root user, against the container's own
// address (which mongod listens on only once the image's entrypoint has
// created the users and started it for real, with --replSet).
//
// A replica set, even of one, is what gives the services retryable writes
// and a "majority" write concern that means what it says, and what change
// streams would need. REPLICA_SET names the set and REPLICA_HOST is the
// member's address as the services reach it: the host of their URI.
const name = process.env.REPLICA_SET;
const host = process.env.REPLICA_HOST;
if (!name || !host) {
  throw new Error("REPLICA_SET and REPLICA_HOST must be set");
}

let status;
try {
  status = db.adminCommand({ replSetGetStatus: 1 });
} catch (e) {
  status = e;
}
if (status.codeName === "NotYetInitialized") {
  // First start (or the first with --replSet, on the volume of a
  // standalone MongoDB): the data stays, and becomes the set's.
  rs.initiate({ _id: name, members: [{ _id: 0, host: host }] });
  print(`initiated replica set ${name} with member ${host}`);
} else if (status.ok !== 1) {
  throw new Error(`replSetGetStatus: ${status.errmsg || status.message}`);
}

// An election takes a moment after initiate or a restart.
for (let i = 0; i < 20 && !db.hello().isWritablePrimary; i++) {
  sleep(250);
}
quit(db.hello().isWritablePrimary ? 0 : 1);
