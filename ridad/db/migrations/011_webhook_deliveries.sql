-- Build on push (issue 13): the forge deliveries that caused builds.
--
-- A row is written in the transaction that records the builds of the push
-- (module_build_ids, in the order of the submission's expansion), so a
-- delivery sent again (a forge's retry, a redelivery with the same id) finds
-- it and builds nothing. The primary key serialises two concurrent
-- deliveries of one id: the second waits for the first's transaction and
-- then sees its row. A delivery that built nothing (ignored, refused,
-- failed verification) leaves no row, so sending it again tries again.
CREATE TABLE webhook_deliveries (
    forge             TEXT NOT NULL,
    delivery_id       TEXT NOT NULL,
    module_build_ids  BIGINT[] NOT NULL DEFAULT '{}',
    scmurl            TEXT NOT NULL,
    branch            TEXT NOT NULL,
    pusher            TEXT,
    received          TIMESTAMPTZ NOT NULL,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (forge, delivery_id)
);
