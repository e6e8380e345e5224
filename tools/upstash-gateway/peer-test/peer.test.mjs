// Peer test: the official @upstash/redis client, with its defaults (base64 response encoding,
// auto-pipelining, read-your-writes), against the local upstash-gateway.
//
// Env: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, and PEER_TEST_PREFIX (key prefix; a
// random one is used when unset). Run through ./run.sh, which starts the gateway.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Redis } from "@upstash/redis";

const url = process.env.UPSTASH_REDIS_REST_URL;
const token = process.env.UPSTASH_REDIS_REST_TOKEN;
assert.ok(url && token, "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set");
const prefix = process.env.PEER_TEST_PREFIX || `ugw-peer-${randomBytes(6).toString("hex")}`;
const key = (name) => `${prefix}:${name}`;
const sha1 = (text) => createHash("sha1").update(text).digest("hex");

// Defaults on purpose: no responseEncoding / enableAutoPipelining overrides.
const redis = new Redis({ url, token, enableTelemetry: false });
const opts = { timeout: 15_000 };

after(async () => {
  const script =
    "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('DEL', k) end return n";
  await redis.eval(script, [], [`${prefix}*`]);
});

test("set / get, including auto-pipelined concurrent calls", opts, async () => {
  assert.equal(await redis.set(key("s"), "bar"), "OK");
  assert.equal(await redis.get(key("s")), "bar");
  assert.equal(await redis.get(key("missing")), null);
  const [a, b, c] = await Promise.all([
    redis.set(key("t"), "héllo"),
    redis.incr(key("n")),
    redis.get(key("s")),
  ]);
  assert.deepEqual([a, b, c], ["OK", 1, "bar"]);
  assert.equal(await redis.get(key("t")), "héllo");
  assert.equal(await redis.ping(), "PONG");
});

test("hset / hgetall", opts, async () => {
  assert.equal(await redis.hset(key("h"), { f1: "v1", f2: "two words" }), 2);
  assert.deepEqual(await redis.hgetall(key("h")), { f1: "v1", f2: "two words" });
});

test("zadd / zrange with scores", opts, async () => {
  assert.equal(
    await redis.zadd(key("z"), { score: 1.5, member: "a" }, { score: 3, member: "b" }),
    2,
  );
  assert.deepEqual(await redis.zrange(key("z"), 0, -1, { withScores: true }), ["a", 1.5, "b", 3]);
  assert.deepEqual(await redis.zrange(key("z"), 0, -1), ["a", "b"]);
});

test("pipeline", opts, async () => {
  const result = await redis
    .pipeline()
    .set(key("p"), "v")
    .incr(key("pc"))
    .get(key("p"))
    .hset(key("ph"), { x: "1" })
    .hgetall(key("ph"))
    .exec();
  assert.deepEqual(result, ["OK", 1, "v", 1, { x: 1 }]);
  await assert.rejects(
    redis.pipeline().set(key("p"), "v").incr(key("p")).exec(),
    /Command 2 \[ incr \] failed: ERR value is not an integer/,
  );
  const kept = await redis.pipeline().incr(key("p")).get(key("p")).exec({ keepErrors: true });
  assert.match(kept[0].error, /^ERR value is not an integer/);
  assert.equal(kept[1].result, "v");
});

test("multi", opts, async () => {
  const result = await redis.multi().set(key("m"), "1").incr(key("m")).get(key("m")).exec();
  assert.deepEqual(result, ["OK", 2, 2]);
  const many = await Promise.all(
    Array.from({ length: 20 }, () => redis.multi().incr(key("mc")).incr(key("mc")).exec()),
  );
  for (const [first, second] of many) assert.equal(second, first + 1);
});

test("eval", opts, async () => {
  assert.equal(await redis.eval("return ARGV[1] .. KEYS[1]", [key("e")], ["x"]), `x${key("e")}`);
  assert.deepEqual(await redis.eval("return {1, {'a', {2}}, 'b', false}", [], []), [1, ["a", [2]], "b", null]);
  assert.equal(
    await redis.eval("#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])", [key("lk")], []),
    1,
  );
});

test("evalsha via scriptLoad, and createScript().exec", opts, async () => {
  const src = `return 'loaded:' .. ARGV[1] .. '${prefix}'`;
  const sha = await redis.scriptLoad(src);
  assert.equal(sha, sha1(src));
  assert.equal(await redis.evalsha(sha, [], ["a"]), `loaded:a${prefix}`);

  const script = redis.createScript(`return 'script:' .. ARGV[1] .. '${prefix}'`);
  assert.equal(await script.exec([], ["b"]), `script:b${prefix}`);
  assert.equal(await script.exec([], ["c"]), `script:c${prefix}`);

  const locking = `#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
  const lockingSha = await redis.scriptLoad(locking);
  assert.equal(lockingSha, sha1(locking), "SCRIPT LOAD answers with the client's SHA");
  assert.equal(await redis.evalsha(lockingSha, [key("lk2")], [5]), 5);
  const lockingScript = redis.createScript(locking);
  assert.equal(await lockingScript.exec([key("lk2")], [1]), 6);
});

test("NOSCRIPT surfaces as an error", opts, async () => {
  await assert.rejects(redis.evalsha("0".repeat(40), [], []), /NOSCRIPT/);
  await assert.rejects(
    redis.pipeline().evalsha("f".repeat(40), [], []).exec(),
    /Command 1 \[ evalsha \] failed: NOSCRIPT/,
  );
});

test("refused commands and Redis errors surface as errors", opts, async () => {
  await assert.rejects(redis.exec(["blpop", key("q"), 0]), /Command is not available: 'blpop'/);
  await assert.rejects(redis.hgetall(key("s")), /WRONGTYPE/);
});
