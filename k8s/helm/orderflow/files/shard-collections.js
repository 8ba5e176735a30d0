// Shards the collections of ordersvc and paymentsvc on a sharded MongoDB
// cluster. Run it once with mongosh against a mongos, as a user who may
// shard (clusterManager), before the services first start:
//
//   mongosh "mongodb://admin@mongos:27017/admin" k8s/helm/orderflow/files/shard-collections.js
//
// The services create their collections when they are missing; one created
// unsharded and filled would have to be resharded.
//
// Every read and write of the flow names its document by _id, and every race
// is settled by which insert of an _id comes first. So each collection is
// sharded on a hashed _id: a lookup asks one shard, inserts spread evenly
// (ObjectIDs and "<orderId>/<n>" ids alike), and a taken _id is refused across
// the cluster, which MongoDB guarantees only for the shard key. (A store an
// earlier version filled also holds "orders" and "idempotency_keys", which
// this version only reads; that version's run of this script sharded them.)
//
// The outbox stays unsharded, on its database's primary shard: it holds only
// the batches in flight, and every ordersvc replica looks in it for the due
// ones twice a second, by their due time, which on a sharded collection would
// ask every shard.
const orders = process.env.ORDERSVC_MONGO_DATABASE || "orders";
const payments = process.env.PAYMENTSVC_MONGO_DATABASE || "payments";

const sharded = {
  [orders]: ["order_changes", "user_orders"],
  [payments]: ["payments", "refunds", "payment_attempts"],
};
const unsharded = {
  [orders]: ["outbox"],
};

for (const [database, collections] of Object.entries(sharded)) {
  sh.enableSharding(database);
  for (const c of collections) {
    sh.shardCollection(`${database}.${c}`, { _id: "hashed" });
    print(`sharded ${database}.${c} on a hashed _id`);
  }
}
for (const [database, collections] of Object.entries(unsharded)) {
  for (const c of collections) {
    print(`left ${database}.${c} unsharded, on the primary shard of ${database}`);
  }
}
