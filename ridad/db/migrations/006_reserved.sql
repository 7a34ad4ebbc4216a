-- Version 6 is taken by a change developed alongside this one. This file
-- only keeps the numbers contiguous until that change is merged; it is then
-- replaced by that change's 006 migration.
SELECT 1;
