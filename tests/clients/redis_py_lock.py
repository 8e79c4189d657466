import sys, json, redis
from redis.exceptions import LockNotOwnedError, LockError
r = redis.Redis(port=int(sys.argv[1]))
r.delete("resource")
lock = r.lock("resource", timeout=10)
out = {}
out["acquired"] = lock.acquire(blocking=False)
out["owned"] = lock.owned()
other = r.lock("resource", timeout=10)
out["other_acquired"] = other.acquire(blocking=False)
out["ttl_before"] = r.pttl("resource") <= 10000
out["extended"] = lock.extend(20)
out["ttl_extended"] = 10000 < r.pttl("resource") <= 30000
out["extended_replace"] = lock.extend(5, replace_ttl=True)
out["ttl_replaced"] = r.pttl("resource") <= 5000
out["reacquired"] = lock.reacquire()
out["ttl_reacquired"] = 5000 < r.pttl("resource") <= 10000
other.local.token = b"intruder"  # a token that does not hold the lock: the Lua scripts must refuse it
try:
    other.release()
    out["other_release"] = "released"
except LockNotOwnedError:
    out["other_release"] = "not owned"
other.local.token = b"intruder"  # release() forgot it
try:
    other.extend(5)
    out["other_extend"] = "extended"
except LockNotOwnedError:
    out["other_extend"] = "not owned"
except LockError as e:
    out["other_extend"] = "lock error: %s" % e
lock.release()
out["exists_after_release"] = r.exists("resource")
out["other_after"] = other.acquire(blocking=False)
other.release()
with r.lock("ctx", timeout=5) as l:
    out["ctx_locked"] = l.locked()
out["ctx_after"] = r.exists("ctx")
print(json.dumps(out, sort_keys=True))
