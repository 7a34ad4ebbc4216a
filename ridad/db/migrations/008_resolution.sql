-- Dependency resolution (issue 11): base modules and other imported modules
-- as module builds, the facts stream expansion reads from them, and the
-- buildroot plan of a build.

-- stream_version: a base module's stream as a number, right-padded as MBS
--   stores it (f29.1.0 -> 290100, el8 -> 80000); NULL for other modules and
--   for streams with no digit.
-- virtual_streams: a base module's xmd.mbs.virtual_streams; the expansion
--   treats base modules sharing one of them (same major, not newer) as
--   compatible.
-- imported: the build was imported (import-module, or koji.base_module_tags
--   at start-up), not built by ridad: it is 'ready' from the start, has no
--   components and no tags of ridad's, and scmurl/scm_commit may be ''.
-- build_context_no_bms: MBS's build context without the base modules.
ALTER TABLE module_builds ADD COLUMN stream_version DOUBLE PRECISION;
ALTER TABLE module_builds ADD COLUMN virtual_streams TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE module_builds ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE module_builds ADD COLUMN build_context_no_bms TEXT;

-- arches: the arches the module is built for, fixed at submission
--   (buildopts.arches, the base module's tag arches and koji.arches); NULL
--   for builds recorded before this migration (koji.arches then applies).
ALTER TABLE module_builds ADD COLUMN arches TEXT[];
-- A component's own arches (its modulemd `arches`), NULL: the module's.
ALTER TABLE component_builds ADD COLUMN arches TEXT[];

-- Stream expansion loads the ready builds of a few names at a time.
CREATE INDEX module_builds_ready_name_idx ON module_builds (name, stream)
    WHERE state = 'ready';
-- The MBS filters on what a build was built against (base_module_br,
-- buildrequires per name) are containment queries on buildrequires.
CREATE INDEX module_builds_buildrequires_idx ON module_builds
    USING GIN (buildrequires jsonb_path_ops);
