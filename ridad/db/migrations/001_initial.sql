-- ridad schema, version 1: module builds, component builds, their state trace
-- and the outbox of bus messages.

CREATE TABLE module_builds (
    id               BIGSERIAL PRIMARY KEY,
    name             TEXT NOT NULL,
    stream           TEXT NOT NULL,
    version          NUMERIC(20) NOT NULL CHECK (version >= 0 AND version <= 18446744073709551615),
    context          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('init', 'wait', 'build', 'done', 'failed', 'ready')),
    state_reason     TEXT,
    owner            TEXT NOT NULL,
    scmurl           TEXT NOT NULL,
    scm_commit       TEXT NOT NULL,
    branch           TEXT,
    modulemd         TEXT NOT NULL,
    build_context    TEXT NOT NULL,
    runtime_context  TEXT NOT NULL,
    buildrequires    JSONB NOT NULL DEFAULT '{}'::jsonb,
    requires         JSONB NOT NULL DEFAULT '{}'::jsonb,
    koji_tag         TEXT,
    scratch          BOOLEAN NOT NULL DEFAULT FALSE,
    time_submitted   TIMESTAMPTZ NOT NULL,
    time_modified    TIMESTAMPTZ NOT NULL,
    time_completed   TIMESTAMPTZ,
    CONSTRAINT module_builds_nsvc_key UNIQUE (name, stream, version, context)
);

-- The list queries: newest first, optionally filtered by state, name,
-- stream or owner.
CREATE INDEX module_builds_state_id_idx ON module_builds (state, id DESC);
CREATE INDEX module_builds_name_stream_id_idx ON module_builds (name, stream, id DESC);
CREATE INDEX module_builds_stream_id_idx ON module_builds (stream, id DESC);
CREATE INDEX module_builds_owner_id_idx ON module_builds (owner, id DESC);

CREATE TABLE component_builds (
    id               BIGSERIAL PRIMARY KEY,
    module_build_id  BIGINT NOT NULL REFERENCES module_builds (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL DEFAULT 'rpms' CHECK (type IN ('rpms')),
    package          TEXT NOT NULL,
    repository       TEXT NOT NULL,
    ref              TEXT NOT NULL,
    scm_commit       TEXT NOT NULL,
    batch            INTEGER NOT NULL CHECK (batch >= 1),
    buildorder       BIGINT NOT NULL DEFAULT 0,
    buildafter       TEXT[] NOT NULL DEFAULT '{}',
    buildonly        BOOLEAN NOT NULL DEFAULT FALSE,
    state            TEXT NOT NULL CHECK (state IN ('waiting', 'building', 'complete', 'failed', 'canceled')),
    state_reason     TEXT,
    task_id          BIGINT,
    task_state       TEXT,
    nvr              TEXT,
    time_modified    TIMESTAMPTZ NOT NULL,
    CONSTRAINT component_builds_module_name_key UNIQUE (module_build_id, type, name)
);

-- Every state change of a module build (component_build_id NULL) or of one
-- of its components.
CREATE TABLE state_trace (
    id                  BIGSERIAL PRIMARY KEY,
    module_build_id     BIGINT NOT NULL REFERENCES module_builds (id) ON DELETE CASCADE,
    component_build_id  BIGINT REFERENCES component_builds (id) ON DELETE CASCADE,
    time                TIMESTAMPTZ NOT NULL,
    old_state           TEXT,
    new_state           TEXT NOT NULL,
    reason              TEXT
);
CREATE INDEX state_trace_module_build_idx ON state_trace (module_build_id, id);

-- Bus messages, written in the same transaction as the change they announce.
-- id orders them; changes of one module build are serialised by a row lock
-- on the build, so id order is also that build's order.
CREATE TABLE outbox (
    id               BIGSERIAL PRIMARY KEY,
    msg_id           UUID NOT NULL UNIQUE,
    topic            TEXT NOT NULL CHECK (topic IN ('module.state.change', 'component.state.change')),
    body             JSONB NOT NULL,
    module_build_id  BIGINT NOT NULL REFERENCES module_builds (id) ON DELETE CASCADE,
    created          TIMESTAMPTZ NOT NULL,
    sent             TIMESTAMPTZ
);
CREATE INDEX outbox_pending_idx ON outbox (module_build_id, id) WHERE sent IS NULL;
CREATE INDEX outbox_sent_idx ON outbox (sent) WHERE sent IS NOT NULL;
