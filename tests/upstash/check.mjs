// Drives ferrokv's command API with the real @upstash/redis client (run by tests/upstash.rs).
// argv: <base url ending in /_redis> <token>. Prints one JSON object of results; the Rust test compares it.
import { Redis } from "@upstash/redis";

const [url, token] = process.argv.slice(2);
// The default client: base64 response encoding and automatic pipelining, both on.
const redis = new Redis({ url, token, enableTelemetry: false });
const results = {};
results.set = await redis.set("greeting", "hello", { ex: 100 });
results.get = await redis.get("greeting");
results.ttl = await redis.ttl("greeting");
results.incr = [await redis.incr("counter"), await redis.incrby("counter", 10)];
await redis.set("object", { theme: "dark", sizes: [1, 2] });
results.object = await redis.get("object");
results.mget = await redis.mget("greeting", "missing");
const pipeline = redis.pipeline();
pipeline.set("p", "v");
pipeline.get("p");
pipeline.incr("counter");
pipeline.del("p");
results.pipeline = await pipeline.exec();
try {
  await redis.incr("greeting");
  results.error = "no error";
} catch (error) {
  results.error = String(error.message);
}
// Plain encoding too, as a client configured with responseEncoding: false sees it.
const plain = new Redis({ url, token, responseEncoding: false, enableAutoPipelining: false });
results.plain = await plain.get("greeting");
console.log(JSON.stringify(results));
