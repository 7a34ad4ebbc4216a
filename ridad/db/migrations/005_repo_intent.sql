-- repo_requested_at: the intent, written before newRepo is called. With a
--   NULL repo_task_id it means "look for the newRepo task in Koji first": a
--   crash, or an answer lost on the way, may hide a task Koji made.
ALTER TABLE module_builds ADD COLUMN repo_requested_at TIMESTAMPTZ;
