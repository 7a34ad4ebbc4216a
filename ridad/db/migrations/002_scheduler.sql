-- ridad schema, version 2: the scheduler.

-- The scheduler lease: one row whose epoch grows by one each time a process
-- becomes the active scheduler (ridad/db/leases.py). The PostgreSQL advisory
-- lock decides who is active; the epoch fences a former leader out: every
-- state-changing scheduler transaction checks, under FOR SHARE, that the
-- epoch is still the one it was given.
CREATE TABLE scheduler_leases (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    epoch     BIGINT NOT NULL,
    holder    TEXT,
    acquired  TIMESTAMPTZ
);

INSERT INTO scheduler_leases (id, epoch, holder, acquired) VALUES (1, 0, NULL, NULL);
