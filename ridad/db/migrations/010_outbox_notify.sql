-- The outbox as a change feed (issue 13): event streams of every ridad
-- process read the outbox, so they need two things from it.
--
-- 1. Ids in commit order. A serial column gives ids in the order rows were
--    inserted, and two transactions can commit in the other order: a reader
--    that saw id 11 and resumes "after 11" would never see 10. Before its
--    first outbox row, each transaction takes a transaction-scoped advisory
--    lock (key "ridad" + 3), held until it commits or rolls back, so the next
--    transaction's ids are drawn only after this one's are visible. The lock
--    is taken by a BEFORE ... FOR EACH STATEMENT trigger, which runs before
--    the statement computes the rows' defaults (nextval).
-- 2. A signal. An AFTER ... FOR EACH STATEMENT trigger calls
--    pg_notify('ridad_outbox', ''): PostgreSQL delivers it to every session
--    LISTENing on the channel when (and only if) the transaction commits, and
--    folds the identical notifications of one transaction into one.
CREATE FUNCTION outbox_in_commit_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(x'7269646164000003'::bigint);
    RETURN NULL;
END
$$;

CREATE FUNCTION outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ridad_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_in_commit_order BEFORE INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_in_commit_order();
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
