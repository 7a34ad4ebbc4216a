-- The number of module builds, kept by statement triggers (issue 14).
--
-- GET /rida/module-builds/ answers the total (X-Total-Count, MBS's meta.total)
-- with every page. Counting 10,000 rows per request was most of PostgreSQL's
-- share of an unfiltered list; filtered lists still count their rows. The one
-- row changes in the transaction that inserts or deletes builds, so it is
-- exact for every snapshot. Transactions that create builds already queue
-- on the outbox's commit-order lock (010), so the row lock adds no wait.
CREATE TABLE module_build_count (
    one  BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    n    BIGINT NOT NULL
);
INSERT INTO module_build_count (n) SELECT count(*) FROM module_builds;

CREATE FUNCTION module_build_count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE module_build_count SET n = n + (SELECT count(*) FROM inserted);
    RETURN NULL;
END $$;

CREATE FUNCTION module_build_count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE module_build_count SET n = n - (SELECT count(*) FROM deleted);
    RETURN NULL;
END $$;

CREATE FUNCTION module_build_count_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE module_build_count SET n = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER module_build_count_insert AFTER INSERT ON module_builds
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION module_build_count_inserted();
CREATE TRIGGER module_build_count_delete AFTER DELETE ON module_builds
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION module_build_count_deleted();
CREATE TRIGGER module_build_count_truncate AFTER TRUNCATE ON module_builds
    FOR EACH STATEMENT EXECUTE FUNCTION module_build_count_truncated();
