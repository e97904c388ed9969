-- Migration 0002: merge duplicate rate-limit buckets.
--
-- KavachOS increments kavach_rate_limits read-modify-write and declares no
-- unique key on (agent_id, resource, window_start), so a database it wrote
-- under concurrency can hold several rows for one bucket. Migration 0003
-- adds that unique index (atomic increments need it), which would fail on
-- such rows. The rows are merged here: the oldest row of each bucket keeps
-- the sum of the counts, the others are deleted. Counters of 5-minute
-- windows are the only data this migration rewrites.
UPDATE "kavach_rate_limits"
SET "count" = (
    SELECT SUM(r."count") FROM "kavach_rate_limits" AS r
    WHERE r."agent_id" = "kavach_rate_limits"."agent_id"
      AND r."resource" = "kavach_rate_limits"."resource"
      AND r."window_start" = "kavach_rate_limits"."window_start"
)
WHERE rowid IN (
    SELECT MIN(rowid) FROM "kavach_rate_limits"
    GROUP BY "agent_id", "resource", "window_start"
    HAVING COUNT(*) > 1
);

DELETE FROM "kavach_rate_limits"
WHERE rowid NOT IN (
    SELECT MIN(rowid) FROM "kavach_rate_limits"
    GROUP BY "agent_id", "resource", "window_start"
);
