-- Component reuse, scratch builds and SRPM components (issue 12).

-- rebuild_strategy: which components may be reused from a previous build
--   (all, changed-and-after, only-changed), fixed at submission.
-- reused_module_id: the build components are reused from: the one the
--   submitter named (reuse_components_from), else the one the scheduler
--   chose when the build left wait; NULL when there is none.
-- srpms: for scratch builds, the SRPMs the client uploaded to Koji
--   (cli-build/... paths) that some components are built from.
ALTER TABLE module_builds ADD COLUMN rebuild_strategy TEXT NOT NULL
    DEFAULT 'changed-and-after'
    CHECK (rebuild_strategy IN ('all', 'changed-and-after', 'only-changed'));
ALTER TABLE module_builds ADD COLUMN reused_module_id BIGINT
    REFERENCES module_builds (id) ON DELETE SET NULL;
ALTER TABLE module_builds ADD COLUMN srpms TEXT[] NOT NULL DEFAULT '{}';

-- reused_component_id: the component build of reused_module_id whose NVR
--   this one took instead of building (state complete).
ALTER TABLE component_builds ADD COLUMN reused_component_id BIGINT
    REFERENCES component_builds (id) ON DELETE SET NULL;
