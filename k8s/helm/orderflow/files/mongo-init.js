// Creates the MongoDB user of each service, allowed to read and write its
// own database and nothing else. The mongo image runs this with mongosh, as
// the root user, when it starts on an empty data volume. The variables are
// the ones the services read, set from the same credentials.
const users = [
  {
    user: process.env.ORDERSVC_MONGO_USERNAME,
    pwd: process.env.ORDERSVC_MONGO_PASSWORD,
    db: process.env.ORDERSVC_MONGO_DATABASE,
  },
  {
    user: process.env.PAYMENTSVC_MONGO_USERNAME,
    pwd: process.env.PAYMENTSVC_MONGO_PASSWORD,
    db: process.env.PAYMENTSVC_MONGO_DATABASE,
  },
];

for (const u of users) {
  if (!u.user || !u.pwd || !u.db) {
    throw new Error("a service's MongoDB user, password or database is not set");
  }
  db.getSiblingDB(u.db).createUser({
    user: u.user,
    pwd: u.pwd,
    roles: [{ role: "readWrite", db: u.db }],
  });
  print(`created MongoDB user ${u.user} on ${u.db}`);
}
