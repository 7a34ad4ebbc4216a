-- A module build's life after it was built.

-- The garbage state: a failed build collected after koji.garbage_days (its
-- components untagged from the module's tags), or a build an administrator
-- retired.
ALTER TABLE module_builds DROP CONSTRAINT module_builds_state_check;
ALTER TABLE module_builds ADD CONSTRAINT module_builds_state_check
    CHECK (state IN ('init', 'wait', 'build', 'done', 'failed', 'ready', 'garbage'));

-- target_deleted_at: when ridad deleted the build target from Koji (or found
-- it gone), koji.target_delete_hours after the build ended; NULL while the
-- target may still exist. A resubmission sets it back to NULL (the target
-- is made again).
ALTER TABLE module_builds ADD COLUMN target_deleted_at TIMESTAMPTZ;

-- The builds whose target may still exist, read by every sweep.
CREATE INDEX module_builds_target_pending_idx ON module_builds (id)
    WHERE target_deleted_at IS NULL;
