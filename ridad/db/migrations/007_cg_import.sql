-- The module itself: the final modulemd and its content-generator import into Koji.

-- The final modulemd documents of a built module, written once (in the
-- transaction that records the import's intent) and served byte for byte as
-- they were uploaded to Koji: filename 'modulemd.txt' (arch NULL, the whole
-- module) and 'modulemd.<arch>.txt' (one per architecture of the module tag).
CREATE TABLE final_modulemds (
    module_build_id BIGINT NOT NULL REFERENCES module_builds (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    arch TEXT,
    content TEXT NOT NULL,
    PRIMARY KEY (module_build_id, filename)
);

-- cg_state: where the import stands. NULL: not started. 'pending': the final
--   modulemd is written and CGInitBuild may have been sent (after a crash,
--   look the NVR up in Koji before reserving again). 'reserved': Koji
--   answered CGInitBuild with cg_build_id and cg_token. 'imported': CGImport
--   completed cg_build_id (then tagged into koji.cg_tag when configured, and
--   the build moves to done).
-- cg_build_id: the Koji build id of the module (reservation, then the build).
-- artifact_count: the NEVRAs in modulemd.txt's artifacts.rpms.
ALTER TABLE module_builds ADD COLUMN cg_state TEXT
    CHECK (cg_state IN ('pending', 'reserved', 'imported'));
ALTER TABLE module_builds ADD COLUMN cg_build_id BIGINT;
ALTER TABLE module_builds ADD COLUMN cg_token TEXT;
ALTER TABLE module_builds ADD COLUMN artifact_count INTEGER;
