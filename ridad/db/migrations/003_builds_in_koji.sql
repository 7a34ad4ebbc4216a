-- Building in Koji: what the scheduler must remember to resume after a crash.

-- The newest READY repo of the -build tag that ridad has seen (its event),
-- and the newRepo task in flight, if any.
ALTER TABLE module_builds ADD COLUMN repo_event BIGINT;
ALTER TABLE module_builds ADD COLUMN repo_task_id BIGINT;
ALTER TABLE module_builds ADD COLUMN repo_attempts INTEGER NOT NULL DEFAULT 0;

-- source: what Koji builds (an SCM URL with ?#commit, or an uploaded SRPM).
-- submitted_at: the intent, written before build() is called; with a NULL
--   task_id after a crash it means "look the task up in Koji first".
-- tagged / tag_event: tagged into the -build tag (and the module tag unless
--   buildonly), and the Koji event after the tagging.
ALTER TABLE component_builds ADD COLUMN source TEXT;
ALTER TABLE component_builds ADD COLUMN submitted_at TIMESTAMPTZ;
ALTER TABLE component_builds ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE component_builds ADD COLUMN koji_build_id BIGINT;
ALTER TABLE component_builds ADD COLUMN tagged BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE component_builds ADD COLUMN tag_event BIGINT;

-- The scheduler's working set: builds that are not finished.
CREATE INDEX module_builds_active_idx ON module_builds (id)
    WHERE state IN ('init', 'wait', 'build', 'done');
-- Open tasks, polled every interval.
CREATE INDEX component_builds_open_task_idx ON component_builds (module_build_id)
    WHERE state = 'building';
